"""Fixtures of the run's tests: the audit log's format a journal writes."""

from __future__ import annotations

import pytest

from civiclab.evidence import audit


@pytest.fixture(params=[audit.PER_EVENT, audit.PER_SESSION], ids=["format1", "format2"])
def audit_format(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> int:
    """Each test using it runs once writing format 1 (as every run made before format 2), once format 2."""
    monkeypatch.setattr(audit, "WRITTEN_FORMAT", request.param)
    return int(request.param)
