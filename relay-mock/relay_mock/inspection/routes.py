"""The inspection API's routes, built from the operations table: each declared handler behind its
declarations (parameters parsed and bounded, the body validated), one route per path."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from relay_mock.inspection import (
    envelopes,
    error_events,
    expectations,
    faults,
    forwarding,
    live,
    logs,
    metrics,
    projects,
    relay,
    stats,
    traces,
    verify,
)
from relay_mock.inspection.bodies import InvalidBody, validated_body
from relay_mock.inspection.operations import OPERATIONS, Handler, Operation
from relay_mock.inspection.params import Args
from relay_mock.inspection.responses import error

MODULES = {
    module.__name__.rsplit(".", 1)[-1]: module
    for module in (
        envelopes, error_events, expectations, faults, forwarding, live, logs, metrics, projects, relay, stats,
        traces, verify,
    )
}  # fmt: skip


def handler_of(op: Operation) -> Handler:
    """The function the table names for `op` ("module.function" of relay_mock/inspection/)."""
    module, name = op.handler.split(".")
    function: Handler = getattr(MODULES[module], name)
    return function


def routes() -> list[Route]:
    """The operations as Starlette routes, one per path: a request with a method the path lacks
    gets 405 with `Allow` naming all the path's methods (one route per method would name only the
    first route's)."""
    by_path: dict[str, dict[str, Handler]] = {}
    for op in OPERATIONS:
        by_path.setdefault(op.path, {})[op.method] = _parsed(op)
    return [Route(path, _by_method(handlers), methods=list(handlers)) for path, handlers in by_path.items()]


def _parsed(op: Operation) -> Handler:
    """The handler behind its declarations: the parameters parsed and bounded from their schemas
    (request.state.args), the body validated through its model (request.state.body), before it
    runs. A bad parameter raises BadParameter (400), a bad body is refused by op.body_refusal."""

    handle = handler_of(op)

    async def run(request: Request) -> Response:
        request.state.args = Args({param.name: param.parse(request) for param in op.params})
        if op.body_refusal is not None:
            try:
                request.state.body = await validated_body(request, op.body, op.body_refusal)
            except InvalidBody as exc:
                return error(422, exc.detail, exc.cause)
        return await handle(request)

    return run


def _by_method(handlers: dict[str, Handler]) -> Handler:
    if len(handlers) == 1:
        return next(iter(handlers.values()))

    async def dispatch(request: Request) -> Response:
        # HEAD is routed as GET (Starlette adds it to every GET route).
        return await handlers["GET" if request.method == "HEAD" else request.method](request)

    return dispatch
