"""Spotlight's sidecar protocol on relay-mock: `POST /stream` (the SDKs' `spotlight` option),
`GET /stream` (Server-Sent Events as Spotlight's CLI and UI read them) and Spotlight's MCP tools."""
