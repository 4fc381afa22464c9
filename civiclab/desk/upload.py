"""Reading an uploaded file from a desk form: one file, a CSRF token bound to the session, a size bound.

The body as a whole is bounded before the application reads it (`civiclab.desk.app.UPLOAD_BODY`); the
file itself is read up to one byte past what the form accepts, so a larger one is refused by name.
"""

from __future__ import annotations

from fastapi import Request
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException

from civiclab.desk.views import Desk
from civiclab.web.csrf import CSRF_FIELD


async def read_upload(
    desk: Desk, request: Request, anchor: str | None, field: str, limit: int
) -> bytes | None:
    """The bytes of the form's file `field` (at most `limit` + 1 of them), or None when none was sent.

    Raises:
        StarletteHTTPException: 400 for a body the multipart parser cannot read, 403 when the CSRF
            token does not match the session (nothing of the file is used then).
    """
    try:
        form = await request.form(max_files=1, max_fields=4)
    except Exception:  # a body the multipart parser cannot read, or more than one file
        raise StarletteHTTPException(400) from None
    try:
        token = form.get(CSRF_FIELD)
        if not desk.csrf.check(anchor, token if isinstance(token, str) else None):
            raise StarletteHTTPException(403, "csrf")
        upload = form.get(field)
        if not isinstance(upload, UploadFile):
            return None
        data = await upload.read(limit + 1)
        return data or None
    finally:
        await form.close()
