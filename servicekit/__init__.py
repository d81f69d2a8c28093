"""Shared building blocks of the sandbox's FastAPI services: settings, Sentry setup,
tracing middleware and utilities, database plumbing, errors, logging and fault switches.

api and downstream both import this package; they never import each other.
"""
