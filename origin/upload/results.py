"""What the API says about a stored file: the answer to an upload (``Stored``)
and an entry of a folder listing (``Listed``), with the same values a GET of
the file would send (its ETag, its Last-Modified)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from urllib.parse import quote

from starlette.types import Send

from origin.config import Config
from origin.convert.jobs import Job
from origin.http.dates import format_http_date
from origin.serve.links import signed_url, version_of
from origin.serve.representation import Representation, last_modified_of
from origin.serve.representations import Representations
from origin.serve.responses import json_response
from origin.serve.sender import send_response
from origin.upload.staging import Committed, whatsapp_type_of
from origin.whatsapp.media_types import content_type_for
from origin.whatsapp.problems import Problem
from storage.base import FileStat

SIGNED_URL_SECONDS = 24 * 3600


@dataclass(frozen=True)
class Stored:
    """One stored file, as the upload's JSON answer describes it."""

    path: str
    url: str
    versioned_url: str
    size: int
    content_type: str
    whatsapp_type: str | None
    etag: str | None
    last_modified: str
    warnings: list[Problem]
    replaced: bool  # not sent: it makes the status, 200 (all replaced) or 201
    signed_url: str | None = None  # only under a signed policy with a key
    converted: dict[str, object] | None = None  # from, to, steps: what a conversion did

    def to_json(self) -> dict[str, object]:
        body: dict[str, object] = {
            "path": self.path,
            "url": self.url,
            "versioned_url": self.versioned_url,
            "size": self.size,
            "content_type": self.content_type,
            "whatsapp_type": self.whatsapp_type,
            "etag": self.etag,
            "last_modified": self.last_modified,
            "warnings": [p.to_json() for p in self.warnings],
        }
        if self.signed_url is not None:
            body["signed_url"] = self.signed_url
        if self.converted is not None:
            body["converted"] = self.converted
        return body


@dataclass(frozen=True)
class Accepted:
    """A conversion still running when the upload is answered: 202, and its job."""

    job: Job


async def send_stored(send: Send, stored: list[Stored] | Accepted, single: bool) -> None:
    """An upload's answer: what was stored (one file for a PUT), or 202 and its job."""
    if isinstance(stored, Accepted):
        location = stored.job.location
        response = json_response(202, {"job": location})
        headers = [*response.headers, (b"location", location.encode())]
        await send_response(send, response._replace(headers=headers))
        return
    body = stored[0].to_json() if single else [file.to_json() for file in stored]
    await send_response(send, json_response(stored_status(stored), body))


def stored_status(stored: list[Stored]) -> int:
    """200 when every file replaced one, else 201 (something was created)."""
    return 200 if all(file.replaced for file in stored) else 201


def describe(config: Config, representations: Representations, committed: Committed) -> Stored:
    """A committed file as the API answers it; its representation is published
    from the writer's own stat and digest, so the answer is that version's."""
    upload, stat, digest = committed.upload, committed.stat, committed.upload.writer.digest
    representation = representations.publish(upload.url_path, stat, digest)
    base_url = config.server.base_url
    url = base_url + quote(upload.url_path)
    key = config.api.signing_key
    signed = None
    if representation.policy.signed and key is not None:
        expires = int(time.time()) + SIGNED_URL_SECONDS
        signed = signed_url(base_url, key, upload.url_path, expires)
    return Stored(
        path=upload.url_path,
        url=url,
        versioned_url=f"{url}?v={version_of(digest)}",
        size=stat.size,
        content_type=content_type_for(upload.url_path),
        whatsapp_type=whatsapp_type_of(upload.path),
        etag=header_text(representation, b"etag"),
        last_modified=header_text(representation, b"last-modified") or last_modified_text(stat),
        warnings=committed.problems,
        replaced=committed.replaced,
        signed_url=signed,
        converted=committed.converted,
    )


@dataclass(frozen=True)
class Listed:
    """One file of a folder listing; ``error`` when it could not be read."""

    path: str
    size: int
    content_type: str
    whatsapp_type: str | None
    etag: str | None
    last_modified: str
    error: str | None = None

    def to_json(self) -> dict[str, object]:
        body: dict[str, object] = {
            "path": self.path,
            "size": self.size,
            "content_type": self.content_type,
            "whatsapp_type": self.whatsapp_type,
            "etag": self.etag,
            "last_modified": self.last_modified,
        }
        if self.error is not None:
            body["error"] = self.error
        return body


def last_modified_text(stat: FileStat) -> str:
    """The Last-Modified a GET would send now (a future mtime is sent as now)."""
    return format_http_date(last_modified_of(stat, time.time()))


def header_text(representation: Representation, name: bytes) -> str | None:
    value = dict(representation.ok_headers).get(name)
    return value.decode("latin-1") if value is not None else None
