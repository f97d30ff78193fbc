"""Cache-Control response directives (RFC 9111 section 5.2.2, RFC 8246 immutable,
RFC 5861 stale-*): parsing an operator's value strictly, so that a typo fails at
start-up instead of being ignored by Meta or the CDN."""

from __future__ import annotations

import re

_TOKEN = r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+"
_QUOTED = r'"(?:[^"\\]|\\.)*"'
_SECONDS = re.compile(r"[0-9]+")
_DIRECTIVE = re.compile(rf"[ \t]*({_TOKEN})(?:=({_TOKEN}|{_QUOTED}))?[ \t]*(?:,|$)")

SECONDS_ARGUMENT = frozenset({"max-age", "s-maxage", "stale-while-revalidate", "stale-if-error"})
NO_ARGUMENT = frozenset(
    {
        "no-store",
        "no-transform",
        "must-revalidate",
        "proxy-revalidate",
        "must-understand",
        "public",
        "immutable",
    }
)
OPTIONAL_FIELD_LIST = frozenset({"no-cache", "private"})
KNOWN = SECONDS_ARGUMENT | NO_ARGUMENT | OPTIONAL_FIELD_LIST


# RFC 9111 section 1.2.2: a delta-seconds too large to represent is taken as 2**31.
# Ten significant digits hold every value up to it, so longer runs of digits (a
# hostile server's max-age of thousands of digits) are never handed to int().
DELTA_SECONDS_CAP = 2**31
_DELTA_SECONDS_DIGITS = len(str(DELTA_SECONDS_CAP))


class CacheControlError(ValueError):
    pass


def delta_seconds(argument: str | None) -> int | None:
    """A directive's seconds (max-age=60, or the quoted "60" recipients accept), capped
    at DELTA_SECONDS_CAP as RFC 9111 says; None if the argument is not a number."""
    if argument is None:
        return None
    if len(argument) >= 2 and argument[0] == argument[-1] == '"':
        argument = argument[1:-1]
    if not _SECONDS.fullmatch(argument):
        return None
    significant = argument.lstrip("0") or "0"
    if len(significant) > _DELTA_SECONDS_DIGITS:
        return DELTA_SECONDS_CAP
    return min(int(significant), DELTA_SECONDS_CAP)


def parse_cache_control(value: str, known_only: bool = True) -> dict[str, str | None]:
    """Directive name (lower case) -> argument, or raise CacheControlError saying why.

    ``known_only=False`` reads someone else's header: any directive is taken as it is.
    """
    directives: dict[str, str | None] = {}
    position = 0
    while position < len(value):
        match = _DIRECTIVE.match(value, position)
        if match is None or match.end() == position:
            raise CacheControlError(f"cannot parse {value!r} at {value[position:]!r}")
        name, argument = match.group(1).lower(), match.group(2)
        if known_only:
            _check_directive(name, argument)
        if name in directives:
            raise CacheControlError(f"{name!r} is given twice")
        directives[name] = argument
        position = match.end()
    return directives


def _check_directive(name: str, argument: str | None) -> None:
    if name not in KNOWN:
        raise CacheControlError(f"unknown directive {name!r} (known: {', '.join(sorted(KNOWN))})")
    if name in SECONDS_ARGUMENT and (argument is None or not _SECONDS.fullmatch(argument)):
        raise CacheControlError(f"{name!r} needs a number of seconds, as in {name}=3600")
    if name in NO_ARGUMENT and argument is not None:
        raise CacheControlError(f"{name!r} takes no value")
    if name in OPTIONAL_FIELD_LIST and argument is not None and not argument.startswith('"'):
        raise CacheControlError(f"{name!r} takes only a quoted list of field names")


def check_response_policy(directives: dict[str, str | None]) -> None:
    """Combinations that contradict themselves; raise CacheControlError."""
    if "no-store" in directives and "max-age" in directives:
        raise CacheControlError("'no-store' with 'max-age' contradicts itself")
    if "private" in directives and "public" in directives:
        raise CacheControlError("'private' with 'public' contradicts itself")
