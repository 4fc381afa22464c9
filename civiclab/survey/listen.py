"""The survey server's listening socket, opened before anything says the server is up."""

from __future__ import annotations

import errno
import socket

from civiclab.errors import SurveyError


def listening_socket(host: str, port: int) -> socket.socket:
    """A socket bound to `host:port` and listening, or `SurveyError` in one line.

    Binding here rather than inside uvicorn turns a port out of range or already in use into a
    message naming it, before "serving on ..." is printed, instead of a traceback or exit code 3.
    """
    if not 1 <= port <= 65535:
        raise SurveyError(f"--port {port}: give a port from 1 to 65535")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        sock = socket.create_server((host, port), family=family, backlog=2048)
    except socket.gaierror as exc:
        raise SurveyError(f"--host {host}: unknown host: {exc.strerror}") from None
    except OSError as exc:
        why = (
            "already in use (another server runs there?)"
            if exc.errno == errno.EADDRINUSE
            else exc.strerror or str(exc)
        )
        raise SurveyError(f"--port {port}: cannot listen on {host}:{port}: {why}") from None
    sock.set_inheritable(True)
    return sock
