"""The ceiling for relay-mock's benchmark: a no-op ASGI app on the very same server stack
(uvicorn options shared with relay-mock), answering every POST like relay-mock would."""

from __future__ import annotations

import argparse
from typing import Any

import uvicorn

from relay_mock.server import UVICORN_OPTIONS

BODY = b'{"id":"00000000000000000000000000000000"}'
HEADERS = [(b"content-type", b"application/json"), (b"content-length", str(len(BODY)).encode())]


async def noop(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    while True:  # read the body, as relay-mock must
        message = await receive()
        if not message.get("more_body"):
            break
    await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
    await send({"type": "http.response.body", "body": BODY})


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    uvicorn.run(noop, host="127.0.0.1", port=parser.parse_args().port, **UVICORN_OPTIONS)
