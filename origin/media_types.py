"""Content-Type of a stored file: WhatsApp's table first, then Python's own table.

The fallback is a ``MimeTypes()`` built from Python's bundled defaults only, not
from /etc/mime.types or the Windows registry, so every instance of the origin
sends the same Content-Type for the same name whatever machine it runs on.
"""

from __future__ import annotations

import mimetypes

from origin.whatsapp import rule_for_name

FALLBACK_CONTENT_TYPE = "application/octet-stream"

_BUNDLED_TYPES = mimetypes.MimeTypes(filenames=())


def content_type_for(name: str) -> str:
    rule = rule_for_name(name)
    if rule is not None:
        return rule.content_type
    guessed, encoding = _BUNDLED_TYPES.guess_type(name, strict=False)
    if guessed is None or encoding is not None:
        # A ".tar.gz" guesses as tar with gzip *encoding*; serving it as
        # application/x-tar would mislabel the bytes actually sent.
        return FALLBACK_CONTENT_TYPE
    return guessed
