"""Locust scenarios: each user class is one kind of traffic against the sandbox."""
