"""The quoted request text of an access-log line, cut into method, URI and protocol.

>>> request_parts("GET /a b HTTP/1.1")  # Apache logs a 400's URL verbatim, spaces and all
('GET', '/a b', 'HTTP/1.1')
"""

from __future__ import annotations

__all__ = ["request_parts", "RequestParts"]


def request_parts(req: str) -> tuple[str, str, str]:
    """Split the quoted request text into method, request (the URI) and protocol.

    ``METHOD URI PROTO`` and ``METHOD URI`` split at their spaces; a longer
    text whose last word looks like ``HTTP/x`` splits at its first and last
    space (the URI keeps its spaces). Any other text is all request.

    >>> request_parts("GET /x HTTP/1.1"), request_parts("-")
    (('GET', '/x', 'HTTP/1.1'), ('', '-', ''))
    >>> request_parts("GET /a b c")
    ('', 'GET /a b c', '')
    """
    parts = req.split(" ")
    if len(parts) == 3:
        return parts[0], parts[1], parts[2]
    if len(parts) == 2:
        return parts[0], parts[1], ""
    if len(parts) > 3 and parts[-1].startswith("HTTP/") and parts[0]:
        return parts[0], " ".join(parts[1:-1]), parts[-1]
    return "", req, ""  # "-", or a TLS handshake written as \x16\x03...


class RequestParts(dict[str, tuple[str, str, str]]):
    """Request text -> :func:`request_parts`, split once per distinct text (bounded).

    Logs repeat their requests, so a lookup usually replaces the split.

    >>> RequestParts()["GET /x HTTP/1.1"]
    ('GET', '/x', 'HTTP/1.1')
    """

    def __missing__(self, req: str) -> tuple[str, str, str]:
        if len(self) >= 100_000:
            self.clear()
        parts = self[req] = request_parts(req)
        return parts
