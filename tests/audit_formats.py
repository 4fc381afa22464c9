"""The audit log's two formats as a fixture: a test using `audit_format` runs once for each."""

from __future__ import annotations

import pytest

from civiclab.evidence import audit


@pytest.fixture(params=[audit.PER_EVENT, audit.PER_SESSION], ids=["format1", "format2"])
def audit_format(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> int:
    """Runs made in the test write format 1 (as every run made before format 2), then format 2."""
    monkeypatch.setattr(audit, "WRITTEN_FORMAT", request.param)
    return int(request.param)
