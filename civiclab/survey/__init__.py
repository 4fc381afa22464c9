"""Social-acceptability surveys: instruments, scoring, imports, store and the participant web form.

Kept import-light: `civiclab.spec.experiment` imports `civiclab.spec.survey`, and the CLI must start fast.
The web form (`civiclab.survey.web`) and the store (`civiclab.survey.store`) import FastAPI and
SQLAlchemy only when used.
"""

from __future__ import annotations
