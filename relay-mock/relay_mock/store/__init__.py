"""Durable storage of envelopes: SQLite in WAL mode, written by one group-commit thread.

What the read side answers, by who reads it:
- what a reader pages through or looks up (envelopes, errors, refusals, logs, metrics, Relay's
  verdicts, leaks, stats) comes back as the inspection API's models (relay_mock.models), built
  here once, so the HTTP API, MCP and the CLI show the same thing;
- what the verifier reads (a window's items, expectations, client reports, refusals) comes back
  as SQLite's rows, streamed: verify/collect.py turns each into its fact in one pass, and a
  record built here first would be built twice on the verifier's hot path.
"""
