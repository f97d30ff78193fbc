"""How Meta will treat a media link, from the response alone: pure functions over
a status, a header mapping and the first bytes of the body.

Two public sources: the header rules of the "Media HTTP Caching" section of
Meta's Cloud API send-messages guide
(https://developers.facebook.com/docs/whatsapp/cloud-api/guides/send-messages#media-http-caching),
and Meta's current "Service messages" page (section "Media caching",
https://developers.facebook.com/documentation/business-messaging/whatsapp/messages/send-messages),
which says only that a link is cached for 10 minutes keyed by the exact URL string.

Pure, and light to import: it speaks the checks' vocabulary (``problems``) and
reads the rules table, but never imports the file checks, Pillow or mutagen.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from origin.http.cache_control import CacheControlError, delta_seconds, parse_cache_control
from origin.whatsapp.problems import ERROR, INFO, WARNING, Problem, check_size
from origin.whatsapp.rules import RULES, MediaRule
from origin.whatsapp.sniff import HTML, base_type, same_kind

ACCEPTED_TYPES = {base_type(rule.content_type): rule for rule in RULES}
_URL_NOTE = (
    "Meta also keys its cache on the exact URL string (10 minutes, per its current docs): "
    "bytes changed behind this URL can stay hidden until that cache expires, so give changed "
    "media a new URL (a versioned link such as ?v=<content hash>, or a new name)."
)


@dataclass(frozen=True)
class MetaView:
    cached: bool | None  # None: Meta's own undisclosed logic decides
    ttl_seconds: int | None
    revalidates: bool
    summary: str
    # Meta ignores an ETag next to Cache-Control or Last-Modified. That is the
    # shipped config's normal answer (the ETag still serves CDNs and browsers),
    # so it is a fact in --json, never a problem printed under every healthy link.
    etag_ignored: bool = False

    def to_json(self) -> dict[str, object]:
        return {
            "cached": self.cached,
            "ttl_seconds": self.ttl_seconds,
            "revalidates": self.revalidates,
            "summary": self.summary,
            "etag_ignored": self.etag_ignored,
        }


def meta_caching(headers: Mapping[str, str]) -> tuple[MetaView, list[Problem]]:
    """Meta's reading of Cache-Control, Last-Modified and ETag (header names lower case)."""
    cache_control = headers.get("cache-control")
    last_modified = headers.get("last-modified")
    etag = headers.get("etag")
    directives = _directives(cache_control) if cache_control is not None else {}
    problems: list[Problem] = []
    etag_ignored = etag is not None and (cache_control is not None or last_modified is not None)
    if cache_control is None and last_modified is None and etag is None:
        problems.append(
            Problem(
                "not_cacheable",
                WARNING,
                "no Cache-Control, Last-Modified or ETag: Meta does not cache the file and fetches "
                "it again for every message; send Cache-Control: max-age=86400 (a folder's "
                'cache_control = "max-age=86400" here) if the file may be cached',
            )
        )
        view = MetaView(False, None, False, "not cached: none of the three caching headers")
    elif "no-store" in directives or "private" in directives:
        which = "no-store" if "no-store" in directives else "private"
        problems.append(
            Problem(
                "not_cacheable",
                INFO,
                f"Cache-Control: {which}: Meta fetches the file again for every message "
                "(right for personal documents)",
            )
        )
        view = MetaView(False, None, False, f"not cached (Cache-Control: {which})")
    elif "no-cache" in directives:
        if last_modified is None:
            problems.append(
                Problem(
                    "no_cache_without_last_modified",
                    ERROR,
                    "Cache-Control: no-cache needs Last-Modified: Meta revalidates a no-cache "
                    "link by comparing Last-Modified; send Last-Modified (the folder's "
                    "last_modified = true here), or use max-age instead of no-cache",
                )
            )
        view = MetaView(
            True, None, True, "cached, and replaced when Last-Modified changes (no-cache)"
        )
    elif "max-age" in directives:
        seconds = delta_seconds(directives["max-age"]) or 0
        view = MetaView(True, seconds, False, f"cached for {seconds} s (max-age)")
    elif cache_control is None and last_modified is None:
        view = MetaView(None, None, False, "cached by Meta's undisclosed logic (ETag alone)")
    else:
        view = MetaView(
            None,
            None,
            False,
            "no directive Meta documents (max-age, no-cache, no-store, private): "
            "Meta's behaviour is not documented",
        )
    summary = f"{view.summary}. {_URL_NOTE}"
    view = MetaView(view.cached, view.ttl_seconds, view.revalidates, summary, etag_ignored)
    return view, problems


def _directives(value: str) -> dict[str, str | None]:
    """Someone else's Cache-Control, read leniently: what cannot be parsed is dropped."""
    directives: dict[str, str | None] = {}
    for part in value.split(","):
        try:
            directives.update(parse_cache_control(part.strip(), known_only=False))
        except CacheControlError:
            continue
    return directives


def check_response(status: int, headers: Mapping[str, str], sniffed: str | None) -> list[Problem]:
    """What in a response makes Meta's fetch fail, before looking at the media itself."""
    if 300 <= status < 400:
        location = headers.get("location", "?")
        return [
            Problem(
                "redirect",
                ERROR,
                f"HTTP {status} redirect to {location}: Meta's fetcher does not follow "
                "redirects; link to the file itself",
            )
        ]
    problems = []
    if status >= 400 or status < 200:
        problems.append(Problem("http_error", ERROR, _http_error_message(status)))
    declared = headers.get("content-type")
    if base_type(declared or "") == HTML or sniffed == HTML:
        problems.append(
            Problem(
                "html_response",
                ERROR,
                "the response is an HTML page: Meta reports 'Unsupported mime type text/html'; "
                "link to the media file itself, not to a page about it",
            )
        )
    if status >= 400 or problems:
        return problems
    rule = ACCEPTED_TYPES.get(base_type(declared or ""))
    if rule is None:
        problems.append(
            Problem(
                "unsupported_type",
                ERROR,
                f"Content-Type {declared or '(none)'} is not a type WhatsApp accepts by link; "
                "serve the file with its WhatsApp type (image/jpeg, video/mp4, audio/ogg; "
                "codecs=opus, application/pdf, ...)",
            )
        )
    elif rule.content_type != base_type(rule.content_type) and "codecs" not in declared.lower():
        problems.append(
            Problem(
                "ogg_content_type",
                WARNING,
                f"Content-Type {declared} without codecs=opus: Meta names "
                f"'{rule.content_type}' as the accepted label, and plain audio/ogg is reported "
                "rejected; send Content-Type: audio/ogg; codecs=opus",
            )
        )
    if rule is not None and not same_kind(rule.content_type, sniffed):
        problems.append(
            Problem(
                "content_type_mismatch",
                ERROR,
                f"Content-Type says {declared} but the bytes are {sniffed or 'of no known type'}; "
                "serve the file under the name of its real type, or convert it to the declared one",
            )
        )
    problems += _length_problems(headers, rule)
    return problems


def _http_error_message(status: int) -> str:
    """The failing status, and what to do about it: Meta never retries by itself."""
    if status in (401, 403):
        fix = "the link must be public (or signed, for a signed folder): Meta sends no credentials"
    elif status in (404, 410):
        fix = "nothing is at this URL: check the path, or upload the file there"
    elif status >= 500:
        fix = "the server failed: see its log, then try the link again"
    else:
        fix = "the link must answer 200 with the file itself"
    return f"HTTP {status}: Meta's fetch fails (error 131053); {fix}"


def _length_problems(headers: Mapping[str, str], rule: MediaRule | None) -> list[Problem]:
    length = headers.get("content-length")
    if length is None or not (length.isascii() and length.isdigit() and len(length) <= 18):
        return [
            Problem(
                "no_content_length",
                WARNING,
                "no Content-Length: Meta cannot tell the size before downloading; serve the "
                "file with Content-Length (not chunked or compressed on the fly)",
            )
        ]
    return check_size(rule, int(length)) if rule is not None else []
