"""Why a run can be trusted: the audit log, the manifest, signing, anchoring, reviews and verification."""
