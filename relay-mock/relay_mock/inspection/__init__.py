"""The inspection API under /inspect/: what arrived, as JSON."""
