"""From a request's URL path to a storage path, refusing anything that could
reach outside the storage root or into a hidden file."""

from __future__ import annotations

from functools import lru_cache

# The origin's own service paths: never a stored file's (README "Running in production").
RESERVED_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})
CONSOLE = "/_console/"
# Folders of the origin's own (conversion jobs, the WhatsApp bridge, the web
# console): no stored file can shadow them.
RESERVED_PREFIXES = ("/_jobs/", "/_whatsapp/", "/_console/")

# Longest name most filesystems take, in bytes, and a whole-path bound.
MAX_SEGMENT_BYTES = 255
MAX_PATH_BYTES = 4096

# The memo holds the paths a link host answers over and over: real links are far
# shorter than this. A longer path is checked afresh each time, never remembered, so
# the memo's worst case is PATH_MEMO_ENTRIES x (a key and a result of at most this
# many ASCII characters): measured, under 50 MB, whatever paths a client invents. A
# non-ASCII str costs up to four bytes a character: it is memoised up to a quarter of
# the length, so the bound holds for any path.
MEMOISED_PATH_CHARS = 256
PATH_MEMO_ENTRIES = 65536


def storage_path(url_path: str) -> str | None:
    """``/campaigns/promo.jpg`` -> ``campaigns/promo.jpg``; None if it names no servable file.

    ``url_path`` is the percent-decoded path the server hands over (so ``%2e%2e``
    arrives as ``..`` and is refused here; ``%252e%252e`` arrives as the literal
    name ``%2e%2e``, which traverses nothing). Refused: empty, ``.`` and ``..``
    segments, dotfiles and dot-folders, backslashes, NUL and other control
    characters, a trailing ``/`` (a folder: folders are never listed) and
    over-long names. Memoised for short paths only (see MEMOISED_PATH_CHARS): a
    client sending distinct long paths must not be able to fill memory.
    """
    if len(url_path) > MAX_PATH_BYTES:
        return None  # refused before any work, and never remembered
    if len(url_path) <= (MEMOISED_PATH_CHARS if url_path.isascii() else MEMOISED_PATH_CHARS // 4):
        return _memoised_storage_path(url_path)
    return _storage_path(url_path)


def _storage_path(url_path: str) -> str | None:
    if not url_path.startswith("/"):
        return None
    relative = url_path[1:]
    if "\\" in relative or not relative.isprintable():
        return None
    if len(relative.encode()) >= MAX_PATH_BYTES:  # printable: no lone surrogates to encode
        return None
    for segment in relative.split("/"):
        if not segment or segment[0] == "." or len(segment.encode()) > MAX_SEGMENT_BYTES:
            return None
    return relative


_memoised_storage_path = lru_cache(maxsize=PATH_MEMO_ENTRIES)(_storage_path)
