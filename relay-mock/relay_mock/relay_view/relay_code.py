"""Typed entry points into `sentry_relay`: Relay's own Rust code over cffi. Its Python layer
has no annotations, so this module is the one place that calls it untyped."""

from __future__ import annotations

import importlib
from typing import Any

from sentry_relay.exceptions import RelayError

__all__ = [
    "RelayError",
    "convert_datascrubbing_config",
    "normalize_event",
    "pii_strip_event",
    "selector_suggestions",
    "validate_pii_config",
]

_processing: Any = importlib.import_module("sentry_relay.processing")


def normalize_event(config: dict[str, Any], raw_event: bytes) -> Any:
    """Relay's store normalization (`StoreNormalizer(**config).normalize_event`)."""
    return _processing.StoreNormalizer(**config).normalize_event(raw_event=raw_event)


def pii_strip_event(config: dict[str, Any], event: dict[str, Any]) -> Any:
    return _processing.pii_strip_event(config, event)


def convert_datascrubbing_config(settings: dict[str, Any]) -> Any:
    return _processing.convert_datascrubbing_config(settings)


def validate_pii_config(config: str) -> None:
    """Raises ValueError (Relay's message) when the config is not valid."""
    _processing.validate_pii_config(config)


def selector_suggestions(event: dict[str, Any]) -> Any:
    return _processing.pii_selector_suggestions_from_event(event)
