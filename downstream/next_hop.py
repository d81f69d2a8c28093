"""downstream's optional next hop (NEXT_HOP_URL): while handling a reservation, it asks the next
service for the SKU's stock, so a trace crosses three services (api → downstream → the next).

The sandbox runs it with compose's `three-hops` profile: a second container of downstream's
image, the `playground` project. Sentry's httpx integration makes the call an `http.client`
span and propagates the trace; the next service's witness joins downstream's own (servicekit
.witness), so the caller at the top learns what every hop received.

The call is an observation, not a dependency: a next hop that fails or is unreachable is
logged (a Sentry log, and the span says how it failed) and the reservation goes on.
"""

from __future__ import annotations

import logging
from urllib.parse import quote

import httpx

from servicekit.witness import record_witnesses

logger = logging.getLogger(__name__)

# Bounded like api's calls to downstream: a dead next hop must not hold reservations up.
TIMEOUT = httpx.Timeout(2.0, connect=1.0)


class NextHop:
    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http

    async def look_up_stock(self, sku: str) -> int | None:
        """The next service's answer status for `GET /stock/{sku}`; None when it gave none."""
        try:
            response = await self.http.get(f"/stock/{quote(sku, safe='')}")
        except httpx.HTTPError as exc:
            logger.warning("next hop %s unreachable: %s", self.http.base_url, exc)
            return None
        record_witnesses(response.headers)
        if response.status_code >= 400:
            logger.warning("next hop %s answered %s for stock of %s", self.http.base_url, response.status_code, sku)
        return response.status_code
