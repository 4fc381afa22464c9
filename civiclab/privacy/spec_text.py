"""The free text of a lab's spec as a run stores it: redacted like everything else a run keeps.

A spec's `description` and `governance` are prose a person writes ("proposed after Marie Dupont's complaint,
contact marie.dupont@example.org"). A run stores them as MLflow params, in its `spec.yaml` copy and in the
scorecard (`scorecard.json`, `scorecard.md`, reports): each of those gets them through
`civiclab.privacy.redaction`. The redacted text is cached under CIVICLAB_HOME, so an unchanged spec loads
no model. The spec's digest is still taken over what the lab wrote, so a run stays tied to its file.
"""

from __future__ import annotations

import json
from typing import Any

FREE_TEXT_FIELDS = ("description", "governance")
CACHE_KIND = "spec-free-text/1"
REWRITTEN_NOTE = (
    "# The experiment as its run stores it: personal data in its free text (description, governance)\n"
    "# redacted, so written anew from its YAML (the original's comments are not kept).\n"
)


def redact_free_text(raw: dict[str, Any]) -> dict[str, Any]:
    """`raw` (a spec as read from its YAML) with every string of its free-text fields redacted."""
    free = {field: raw[field] for field in FREE_TEXT_FIELDS if field in raw}
    if not free:
        return raw
    from civiclab.privacy.redaction import cached_redaction

    written = json.dumps(free, sort_keys=True, ensure_ascii=False, default=str).encode("utf-8")
    clean = json.loads(cached_redaction(CACHE_KIND, written, _redacted_json))
    if clean == json.loads(written):
        return raw  # nothing redacted: the values as read (a YAML date stays a date)
    return {key: clean.get(key, value) if key in FREE_TEXT_FIELDS else value for key, value in raw.items()}


def _redacted_json(written: bytes) -> bytes:
    from civiclab.privacy.redaction import redact

    return json.dumps(redact(json.loads(written)), sort_keys=True, ensure_ascii=False).encode("utf-8")


def stored_spec_text(text: str) -> str:
    """A spec file's text as a run stores it: as written when its free text holds no personal data,
    else written anew from its YAML with that text redacted."""
    import yaml

    raw = yaml.safe_load(text)
    if not isinstance(raw, dict):
        return text
    clean = redact_free_text(raw)
    if clean is raw:
        return text
    return REWRITTEN_NOTE + yaml.safe_dump(clean, allow_unicode=True, sort_keys=False)
