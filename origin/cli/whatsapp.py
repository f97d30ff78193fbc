"""``media-origin whatsapp upload|renew|message``: the media-ID bridge from the
command line, over the configured storage and provider — the same ``Bridge``
the server runs, so an ID uploaded here is the one ``GET /_whatsapp/media/``
answers with (and the other way round). ``failures`` is in
``origin.cli.failures``.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TextIO

from origin.app import BRIDGE_AREA, make_storage
from origin.cli.convert import stored_names
from origin.cli.errors import CommandError
from origin.cloudapi.bridge import NOT_CONFIGURED, Bridge, chosen_number, links, stored_version
from origin.cloudapi.calls import ProviderError, message_call
from origin.cloudapi.media_ids import MediaId, to_renew
from origin.cloudapi.messages import MessageError, message_body
from origin.cloudapi.statuses import record_sent
from origin.config import Config, Number
from origin.upload.refusal import Refused
from origin.upload.stored import stored_report
from origin.whatsapp.problems import ERROR, base_name
from storage.base import Storage
from storage.uploads import WorkArea

RENEWING_AT_ONCE = 4  # uploads in flight during a renew: the provider's limits are per number


@dataclass(frozen=True, slots=True)
class Outcome:
    """One path's result: ``uploaded``, ``reused``, ``renewed``, ``skipped`` or ``failed``."""

    path: str
    state: str
    answer: dict[str, object] | None = None
    error: dict[str, str] | None = None

    def to_json(self) -> dict[str, object]:
        failed = {"error": self.error} if self.error is not None else {}
        return {"path": self.path, "state": self.state, **(self.answer or {}), **failed}


def _run(config: Config, work: Callable[[Bridge], Awaitable[Any]]) -> Any:
    """``work`` done with a bridge over the configured storage, closed after."""
    bridge = Bridge(config, make_storage(config), WorkArea(BRIDGE_AREA))

    async def within() -> Any:
        try:
            return await work(bridge)
        finally:
            bridge.close()
            bridge.storage.close()

    return asyncio.run(within())


def _needs_provider(config: Config) -> None:
    if not config.whatsapp.configured:
        raise CommandError(NOT_CONFIGURED)


def _chosen(config: Config, asked: str | None) -> Number | None:
    """The number asked for, checked before any work (one line when it is wrong);
    None when no [whatsapp] table is configured."""
    try:
        return chosen_number(config.whatsapp, asked)
    except Refused as refused:
        raise CommandError(refused.message) from None


def run_upload(
    config: Config, arguments: list[str], asked: str | None, as_json: bool, out: TextIO
) -> int:
    _needs_provider(config)
    chosen = _chosen(config, asked)
    number = chosen.phone_number_id if chosen is not None else None
    names = stored_names(config, arguments)

    async def upload_all(bridge: Bridge) -> list[Outcome]:
        return [await _ensure(bridge, name, number, renew=False) for name in names]

    return _report(_run(config, upload_all), as_json, out)


def run_renew(
    config: Config, older_than: float | None, as_json: bool, out: TextIO, now: float
) -> int:
    """Upload again every recorded ID chosen by ``to_renew``, a few at a time."""
    _needs_provider(config)

    async def renew_all(bridge: Bridge) -> list[Outcome]:
        chosen = [
            record
            for record in await bridge.ids.every(config.whatsapp.provider)
            if to_renew(record, now, older_than, config.whatsapp.renew_days)
        ]
        gate = asyncio.Semaphore(RENEWING_AT_ONCE)

        async def renew(record: MediaId) -> Outcome:
            async with gate:
                return await _renew_one(bridge, record)

        return list(await asyncio.gather(*(renew(record) for record in chosen)))

    return _report(_run(config, renew_all), as_json, out)


async def _renew_one(bridge: Bridge, record: MediaId) -> Outcome:
    """An ID is renewed for the bytes it was made from, read from a path that
    still holds them: bytes no stored path holds any more have nothing to renew."""
    if not record.paths:
        return _skipped(record.media_id, "recorded before paths were: renewed when next asked for")
    replaced = False
    for path in record.paths:
        try:
            _, content_hash = await stored_version(bridge.storage, path)
        except Refused:
            continue
        if content_hash == record.content_hash:
            return await _ensure(bridge, path, record.number, renew=True)
        replaced = True
    why = (
        "the file was replaced since: its new bytes get their own ID"
        if replaced
        else "the file is no longer stored"
    )
    return _skipped(record.paths[0], why)


def _skipped(path: str, why: str) -> Outcome:
    return Outcome(path, "skipped", error={"error": "skipped", "message": why})


async def _ensure(bridge: Bridge, name: str, number: str | None, renew: bool) -> Outcome:
    try:
        answer = await bridge.ensure(name, number, renew=renew)
    except Refused as refused:
        return Outcome(name, "failed", error={"error": refused.code, "message": refused.message})
    state = ("renewed" if renew else "uploaded") if answer.uploaded else "reused"
    return Outcome(name, state, answer=answer.to_json())


def _report(outcomes: list[Outcome], as_json: bool, out: TextIO) -> int:
    if as_json:
        json.dump([outcome.to_json() for outcome in outcomes], out, indent=2)
        out.write("\n")
    else:
        out.write(format_outcomes(outcomes))
    return 1 if any(outcome.state == "failed" for outcome in outcomes) else 0


def format_outcomes(outcomes: list[Outcome]) -> str:
    lines = []
    for outcome in outcomes:
        if outcome.answer is not None:
            answer = outcome.answer
            lines.append(
                f"{outcome.state} {outcome.path}: {answer['id']} (number {answer['number']}, "
                f"expires {answer['expires_at']})"
            )
        else:
            lines.append(f"{outcome.state} {outcome.path}: {(outcome.error or {}).get('message')}")
    states = ("uploaded", "renewed", "reused", "skipped", "failed")
    counts = ", ".join(
        f"{sum(o.state == state for o in outcomes)} {state}"
        for state in states
        if state == "failed" or any(o.state == state for o in outcomes)
    )
    files = "1 ID" if len(outcomes) == 1 else f"{len(outcomes)} IDs"
    lines.append(f"{files}: {counts}" if outcomes else "no IDs to renew")
    return "\n".join(lines) + "\n"


@dataclass(frozen=True, slots=True)
class MessageRequest:
    path: str
    to: str
    caption: str | None
    by: str | None  # "id" or "link"; None: by ID when [whatsapp] is configured
    number: str | None
    send: bool


def run_message(config: Config, request: MessageRequest, out: TextIO) -> int:
    """The send-media body printed; with ``send``, posted, and the wamid printed
    (the body then goes to stderr, so that stdout is the wamid alone)."""
    by = request.by or ("id" if config.whatsapp.configured else "link")
    if by == "id" or request.send:
        _needs_provider(config)
    chosen = _chosen(config, request.number)
    number = chosen.phone_number_id if chosen is not None else None

    async def compose(bridge: Bridge) -> tuple[dict[str, Any], str | None]:
        whatsapp_type = await _whatsapp_type(bridge.storage, request.path)
        # --to and --caption checked before anything is uploaded or sent
        message_body(request.to, whatsapp_type, None, "https://", request.caption)
        if by == "id":
            media_id, link = (await bridge.ensure(request.path, number)).media_id, None
        else:
            _, content_hash = await stored_version(bridge.storage, request.path)
            media_id, link = None, links(config, request.path, content_hash)[1]
        body = message_body(
            request.to, whatsapp_type, media_id, link, request.caption, base_name(request.path)
        )
        if not request.send or chosen is None:
            return body, None
        call = message_call(config.whatsapp, chosen, body)
        wamid = await asyncio.to_thread(bridge.client.send, call, "wamid")
        await record_sent(bridge.storage.records, wamid, request.path, chosen.phone_number_id, by)
        return body, wamid

    try:
        body, wamid = _run(config, compose)
    except (Refused, ProviderError) as error:
        print(f"media-origin whatsapp message: {error.message}", file=sys.stderr)
        return 1
    except MessageError as error:
        raise CommandError(str(error)) from None
    text = json.dumps(body, indent=2, ensure_ascii=False) + "\n"
    if wamid is None:
        out.write(text)
        return 0
    print(text, end="", file=sys.stderr)
    out.write(wamid + "\n")
    return 0


async def _whatsapp_type(storage: Storage, url_path: str) -> str:
    """The message type the file goes as; a file ``check`` rejects is refused
    here, by link as by ID: Meta would accept the request and fail the message."""
    stored = await stored_report(storage, url_path)
    if stored is None:
        raise Refused(404, "not_found", f"no file is stored at {url_path}", url_path)
    report = stored.report
    if report.verdict == "reject" or report.whatsapp_type is None:
        rejected = [problem.message for problem in report.problems if problem.level == ERROR]
        why = rejected[0] if rejected else "not a type WhatsApp sends as media"
        raise Refused(422, "rejected", f"{url_path}: WhatsApp would refuse it: {why}", url_path)
    return report.whatsapp_type
