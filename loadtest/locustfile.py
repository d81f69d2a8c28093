"""Locust entry point: thin on purpose; the traffic lives in scenarios/.

`import locust` comes first: it patches the standard library for gevent, which must
happen before anything imports ssl. sentry-sdk stays out of the load generator.
"""

import locust  # noqa: F401  (first: gevent monkey-patching)

from scenarios import request_log  # noqa: F401  (a per-request log when LOCUST_REQUEST_LOG is set)
from scenarios.sandbox import SandboxUser  # noqa: F401
