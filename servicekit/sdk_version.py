"""Which major of sentry-python is installed: the services run on 2.x and on 3.x.

servicekit/sentry.py configures each major in its own small functions; everything else asks
`request_span.streaming()` whether the request's span is a streamed one (always, on 3.x).
"""

from __future__ import annotations

import sentry_sdk

SDK_VERSION: str = sentry_sdk.VERSION
SDK_MAJOR: int = int(SDK_VERSION.partition(".")[0])
# 3.0 dropped transactions: span streaming is its only tracing mode.
SPANS_ONLY: bool = SDK_MAJOR >= 3
