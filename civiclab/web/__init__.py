"""What the desk and the survey form share on the web: CSRF tokens, security headers, body and rate
limits, which language a request gets, and the base page template (`templates/layout.html`).

The words stay with each feature; only the mechanisms live here. Kept free of FastAPI and Starlette:
these are plain ASGI middlewares and functions, so each feature's app decides what it imports.
"""
