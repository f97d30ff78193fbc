"""Content-Disposition (RFC 6266) with the file's name, safe for any name."""

from __future__ import annotations

from urllib.parse import quote


def content_disposition(disposition: str, filename: str) -> str:
    """``inline; filename="a.pdf"``, with an RFC 6266 ``filename*`` for other than plain ASCII."""
    if filename.isascii() and filename.isprintable():
        escaped = filename.replace("\\", "\\\\").replace('"', '\\"')
        return f'{disposition}; filename="{escaped}"'
    fallback = filename.encode("ascii", "replace").decode("ascii").replace("?", "_")
    fallback = "".join(c if c.isprintable() and c not in '"\\' else "_" for c in fallback)
    return f"{disposition}; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"
