"""What Sentry itself would store: Relay's own normalization and data scrubbing (the
`sentry-relay` package, FSL-1.0-Apache-2.0) applied to every event, transaction and feedback item,
off the acknowledgement path, and the secrets that survive it."""
