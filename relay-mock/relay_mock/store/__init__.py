"""Durable storage of envelopes: SQLite in WAL mode, written by one group-commit thread."""
