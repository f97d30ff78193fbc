"""What a stored file looks like over HTTP under its folder's policy, computed once
per file version: validators and ready-made header lists, so that serving a
request is a lookup, a comparison or two and a send."""

from __future__ import annotations

import time
from dataclasses import dataclass

from origin.http.dates import format_http_date
from origin.http.disposition import content_disposition
from origin.http.etags import ETag
from origin.policy import Policy
from origin.serve.responses import Headers, Response
from origin.whatsapp.media_types import content_type_for, is_script_capable
from storage.base import FileStat


@dataclass(frozen=True, slots=True)
class Representation:
    stat: FileStat
    policy: Policy
    etag: ETag | None
    last_modified: int | None  # whole seconds, as sent
    ok_headers: Headers  # a 200, Content-Length included
    partial_headers: Headers  # a 206, without Content-Length and Content-Range
    not_modified: Response  # a 304 (the 200's validators and cache headers), made once
    head: Response  # a HEAD's 200, made once
    cacheable: bool  # False while the file's mtime lies in the future
    content_hash: str | None  # of the bytes, when the policy needs one


def build_representation(
    url_path: str,
    stat: FileStat,
    policy: Policy,
    content_hash: str | None,
    now: float | None = None,
) -> Representation:
    """The headers of ``url_path`` at version ``stat`` under ``policy``.

    ``content_hash`` is required when the policy sends an ETag.
    """
    now = time.time() if now is None else now
    name = url_path.rsplit("/", 1)[-1]
    etag = _etag(policy, content_hash)
    last_modified = last_modified_of(stat, now) if policy.last_modified else None

    cache: list[tuple[str, str]] = []
    if policy.cache_control:
        cache.append(("cache-control", policy.cache_control))
    if policy.cdn_cache_control:
        cache.append(("cdn-cache-control", policy.cdn_cache_control))
    if etag is not None:
        cache.append(("etag", etag.to_header()))
    if last_modified is not None:
        cache.append(("last-modified", format_http_date(last_modified)))

    content_type = content_type_for(name)
    representation = [
        ("content-type", content_type),
        ("accept-ranges", "bytes"),
        ("x-content-type-options", "nosniff"),
        *cache,
    ]
    if is_script_capable(content_type):
        # HTML, SVG, XML put into storage by other means (no upload takes them):
        # a sandbox with nothing allowed, so they can never run script as this
        # origin, whose console holds a signed-in session.
        representation.append(("content-security-policy", "sandbox"))
    if policy.content_disposition:
        representation.append(
            ("content-disposition", content_disposition(policy.content_disposition, name))
        )
    return Representation(
        stat=stat,
        policy=policy,
        etag=etag,
        last_modified=last_modified,
        ok_headers=(ok_headers := encode([("content-length", str(stat.size)), *representation])),
        partial_headers=encode(representation),
        not_modified=Response(304, encode(cache)),
        head=Response(200, ok_headers),
        cacheable=stat.mtime <= now,
        content_hash=content_hash,
    )


def last_modified_of(stat: FileStat, now: float) -> int:
    """The Last-Modified sent for ``stat``, in whole seconds: never later than the
    response's Date (RFC 9110 8.8.2.1), so a future mtime is sent as now. The
    upload answer and the listing use it too, so all three say the same date."""
    return int(min(stat.mtime, now))


def _etag(policy: Policy, content_hash: str | None) -> ETag | None:
    if policy.etag == "off":
        return None
    if content_hash is None:
        raise ValueError(f"policy {policy.folder!r} sends an ETag but no content hash was given")
    return ETag(content_hash, weak=policy.etag == "weak")


def encode(headers: list[tuple[str, str]]) -> Headers:
    return [(name.encode("latin-1"), value.encode("latin-1")) for name, value in headers]
