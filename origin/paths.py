"""From a request's URL path to a storage path, refusing anything that could
reach outside the storage root or into a hidden file."""

from __future__ import annotations

from functools import lru_cache

# The origin's own service paths: never a stored file's (README "Running in production").
RESERVED_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})

# Longest name most filesystems take, in bytes, and a whole-path bound.
MAX_SEGMENT_BYTES = 255
MAX_PATH_BYTES = 4096


@lru_cache(maxsize=65536)
def storage_path(url_path: str) -> str | None:
    """``/campaigns/promo.jpg`` -> ``campaigns/promo.jpg``; None if it names no servable file.

    ``url_path`` is the percent-decoded path the server hands over (so ``%2e%2e``
    arrives as ``..`` and is refused here; ``%252e%252e`` arrives as the literal
    name ``%2e%2e``, which traverses nothing). Refused: empty, ``.`` and ``..``
    segments, dotfiles and dot-folders, backslashes, NUL and other control
    characters, a trailing ``/`` (a folder: folders are never listed) and
    over-long names. Memoised: a link host answers the same paths over and over.
    """
    if not url_path.startswith("/") or len(url_path) > MAX_PATH_BYTES:
        return None
    relative = url_path[1:]
    if "\\" in relative or not relative.isprintable():
        return None
    for segment in relative.split("/"):
        if not segment or segment[0] == "." or len(segment.encode()) > MAX_SEGMENT_BYTES:
            return None
    return relative
