"""What a file's console page shows, gathered from the parts that already know
it: the headers the serving code sends for it (``Representations``, exactly
what a GET gets), Meta's reading of them (``meta_caching``, as ``explain``
prints it), the ``check`` report, the links the upload API hands out, the
media ID the bridge keeps, the message body to paste, and the activity: Meta's
fetches seen by this process and the failed statuses of messages media-origin
sent with the file.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import quote

from origin.cloudapi.bridge import Answer, Bridge, links
from origin.cloudapi.messages import MessageError, message_body
from origin.cloudapi.statuses import kept, sent
from origin.cloudapi.webhooks import ADVICE, classify
from origin.config import Config, WhatsAppConfig
from origin.console.browse import iso_time
from origin.serve.links import signed_url
from origin.serve.representations import Representations
from origin.upload.refusal import Refused
from origin.whatsapp.problems import Problem, Report, base_name
from origin.whatsapp.responses import MetaView, meta_caching
from storage.base import FileStat, Storage

SIGNED_FOR = (("1 hour", 3600), ("1 day", 86_400), ("7 days", 604_800), ("30 days", 2_592_000))
FAILURES_DAYS = 7  # how far back the activity panel looks for failed statuses
EXAMPLE_RECIPIENT = "15551234567"  # the page's recipient field replaces it
PREVIEWS = {"image": "image", "sticker": "image", "audio": "audio", "video": "video"}


@dataclass(frozen=True, slots=True)
class Failed:
    when: str
    code: int | None
    details: str
    cause: str
    advice: str


@dataclass
class FileView:
    path: str  # /campaigns/promo.jpg
    name: str
    stat: FileStat
    headers: dict[str, str]
    meta: MetaView
    report: Report | None  # None: the check could not be made (the store failed)
    problems: list[Problem]  # the report's and the caching reading's
    link: str
    versioned_link: str
    signed_links: list[tuple[str, str]]  # (label, link); empty outside signed folders
    media_id: Answer | None  # None: no bridge configured
    media_id_problem: str | None
    message_json: str | None  # None: not a type WhatsApp sends
    preview: str | None  # image, audio, video or None (an icon)
    preview_src: str  # the origin's own link on this host (signed for an hour where it must be)
    fetches: tuple[int, str | None, int | None] | None  # count, last, status; None: not counted
    failures: list[Failed] = field(default_factory=list)


async def file_view(
    config: Config,
    storage: Storage,
    representations: Representations,
    bridge: Bridge,
    url_path: str,
    path: str,
    report_of: Callable,
    fetches_of: Callable | None,
) -> FileView | None:
    representation = await representations.get(url_path, path)
    if representation is None:
        return None
    stat = representation.stat
    headers = {name.decode(): value.decode("latin-1") for name, value in representation.ok_headers}
    meta, caching = meta_caching(headers)
    report = await report_of(url_path, stat.version)
    content_hash = await storage.content_hash(path, stat)
    link, versioned = links(config, url_path, content_hash)
    answer, id_problem = await _media_id(config, bridge, url_path)
    whatsapp_type = report.whatsapp_type if report is not None else None
    seen = fetches_of(url_path) if fetches_of is not None else None
    return FileView(
        path=url_path,
        name=base_name(url_path) or url_path,
        stat=stat,
        headers=headers,
        meta=meta,
        report=report,
        problems=(report.problems if report is not None else []) + caching,
        link=link,
        versioned_link=versioned,
        signed_links=_signed_links(config, url_path),
        media_id=answer,
        media_id_problem=id_problem,
        message_json=_message(whatsapp_type, answer, versioned, url_path),
        preview=PREVIEWS.get(whatsapp_type or ""),
        preview_src=_own_link(config, url_path),
        fetches=None if fetches_of is None else _fetches(seen),
        failures=await _failures(storage, url_path),
    )


def _own_link(config: Config, url_path: str) -> str:
    """The file's link relative to this host: the page is on the origin itself,
    whatever ``base_url`` says (a CDN's address, say, that a test cannot reach)."""
    key = config.api.signing_key
    if config.policies.for_path(url_path).signed and key is not None:
        return signed_url("", key, url_path, int(time.time()) + SIGNED_FOR[0][1])
    return quote(url_path)


def _signed_links(config: Config, url_path: str) -> list[tuple[str, str]]:
    key = config.api.signing_key
    if not config.policies.for_path(url_path).signed or key is None:
        return []
    now = int(time.time())
    return [
        (label, signed_url(config.server.base_url, key, url_path, now + seconds))
        for label, seconds in SIGNED_FOR
    ]


def first_number(whatsapp: WhatsAppConfig) -> str | None:
    """The number the console's media IDs belong to (an ID belongs to one)."""
    return whatsapp.numbers[0].phone_number_id if whatsapp.numbers else None


async def _media_id(
    config: Config, bridge: Bridge, url_path: str
) -> tuple[Answer | None, str | None]:
    """The first configured number's ID (an ID belongs to one number)."""
    if not config.whatsapp.configured:
        return None, None
    try:
        return await bridge.current(url_path, first_number(config.whatsapp)), None
    except Refused as refused:  # several numbers and none chosen, or the file just went
        return None, refused.message


def _message(
    whatsapp_type: str | None, answer: Answer | None, link: str, url_path: str
) -> str | None:
    """The send-media body by ID when one is valid, else by the versioned link."""
    if whatsapp_type is None:
        return None
    media_id = answer.media_id if answer is not None else None
    try:
        body = message_body(
            EXAMPLE_RECIPIENT,
            whatsapp_type,
            media_id,
            None if media_id else link,
            filename=base_name(url_path),
        )
    except MessageError:
        return None
    return json.dumps(body, indent=2)


def _fetches(seen) -> tuple[int, str | None, int | None]:
    if seen is None:
        return 0, None, None
    return seen.count, iso_time(seen.last), seen.last_status


async def _failures(storage: Storage, url_path: str) -> list[Failed]:
    """Failed statuses of the last days whose message carried this file."""
    now = time.time()
    found = []
    for status in await kept(storage.records, now - FAILURES_DAYS * 86_400, now):
        if status.status != "failed":
            continue
        message = await sent(storage.records, status.wamid)
        if message is None or message.get("path") != url_path:
            continue
        error = status.errors[0] if status.errors else None
        code, details = (error.code, error.details or error.message) if error else (None, "")
        cause = classify(code, details)
        found.append(Failed(iso_time(status.timestamp), code, details, cause, ADVICE[cause]))
    return found
