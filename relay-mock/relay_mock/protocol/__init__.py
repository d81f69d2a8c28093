"""The Sentry ingest protocol, as pure functions: no I/O, no server, easy to fuzz."""
