"""Fixtures of the run's tests."""

from __future__ import annotations

from tests.audit_formats import audit_format

__all__ = ["audit_format"]
