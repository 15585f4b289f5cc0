"""Shared helpers for the integration tests (see harness.py)."""
