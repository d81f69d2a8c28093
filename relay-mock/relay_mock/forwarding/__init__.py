"""Forwarding to a real Sentry: the acknowledged envelopes of configured projects, through a
durable outbox (store/writer.py queues them in the commit that stores them), sent on by a
background task that never stands in the acknowledgement's way."""
