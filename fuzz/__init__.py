"""Fuzzing of relay-mock's ingest pipeline: the atheris harness, its seed corpus and the corpus writer."""
