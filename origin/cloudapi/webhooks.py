"""Status webhooks as plain values: Meta's verification challenge answered,
a delivery's signature checked against its raw body, the statuses read out of
the envelope leniently, and a failed status classified into a cause a person
can act on, with the advice for it. No I/O: the route reads the request and
stores what ``statuses`` returns; ``media-origin whatsapp failures`` prints
what ``classify`` says.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

CAUSES = (
    "meta_rate_limit",
    "origin_http_error",
    "redirect_or_html",
    "unsupported_type",
    "too_large",
    "media_id_expired",
    "unknown",
)
ADVICE = {
    "meta_rate_limit": (
        "Meta's fetcher is rate-limiting downloads from your network (fwdproxy, per ASN, "
        "across all its tenants): the link was fine. Send by media ID instead "
        "(POST /_whatsapp/media), keeping the link as the fallback"
    ),
    "origin_http_error": (
        "your server answered Meta's fetch with an error status: check that the file is "
        "still there at that exact URL, that no firewall or WAF blocks Meta's addresses, "
        "and that a signed link had not expired"
    ),
    "redirect_or_html": (
        "Meta fetched an HTML page: a redirect, a login or error page, or a CDN challenge "
        "stood where the file should be. Send a direct link that answers 200 with the bytes"
    ),
    "unsupported_type": (
        "the Content-Type Meta received is not one WhatsApp takes for this message type: "
        "run media-origin check on the file, and convert it (media-origin convert)"
    ),
    "too_large": (
        "the file is over WhatsApp's limit for its type: convert it (media-origin convert "
        "fits images in 5 MB and audio and video in 16 MB) or send it as a document"
    ),
    "media_id_expired": (
        "the media ID had expired or was deleted (IDs live 30 days): upload again with "
        "media-origin whatsapp upload, or renew them all with media-origin whatsapp renew"
    ),
    "unknown": "not a media failure media-origin recognises: read the code and details",
}


@dataclass(frozen=True, slots=True)
class StatusError:
    code: int | None
    title: str = ""
    message: str = ""
    details: str = ""


@dataclass(frozen=True, slots=True)
class Status:
    wamid: str
    status: str  # "sent" | "delivered" | "read" | "failed" | anything newer Meta sends
    timestamp: int  # unix seconds, as Meta stamped it
    recipient_id: str = ""
    phone_number_id: str = ""
    errors: tuple[StatusError, ...] = field(default=())

    @property
    def key(self) -> str:
        """One delivery of one status of one message: what a repeat shares."""
        digest = hashlib.sha256(f"{self.wamid}\n{self.status}".encode()).hexdigest()[:40]
        return f"{digest}-{re.sub(r'[^a-z]', '', self.status.lower())[:16] or 'status'}"


def verification(params: dict[str, str], verify_token: str | None) -> tuple[int, str]:
    """(status, body) for ``GET ?hub.mode=subscribe&hub.verify_token=…&hub.challenge=…``."""
    if verify_token is None:
        return 503, "no verify token is configured ([whatsapp] verify_token_env)"
    given = params.get("hub.verify_token", "")
    if params.get("hub.mode") != "subscribe" or not hmac.compare_digest(
        given.encode(), verify_token.encode()
    ):
        return 403, "verification refused: hub.mode or hub.verify_token is wrong"
    return 200, params.get("hub.challenge", "")


def signature_valid(secret: str, body: bytes, header: str | None) -> bool:
    """``X-Hub-Signature-256: sha256=<hex>``, the HMAC-SHA256 of the raw body,
    compared in constant time."""
    if not header or not header.startswith("sha256="):
        return False
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), header[len("sha256=") :].strip().lower().encode())


def shared_header_valid(secret: str, value: str | None) -> bool:
    """360dialog: the configured header carries the secret itself."""
    return value is not None and hmac.compare_digest(value.encode(), secret.encode())


def statuses(payload: Any) -> list[Status]:
    """Every status in a delivery's envelope, however much of it is missing:
    a status without an ID or a stamp is skipped, never a reason to refuse the
    delivery (Meta would retry it for days)."""
    found: list[Status] = []
    for entry in _list(_get(payload, "entry")):
        for change in _list(_get(entry, "changes")):
            value = _get(change, "value")
            number = str(_get(_get(value, "metadata"), "phone_number_id") or "")
            for status in _list(_get(value, "statuses")):
                read = _status(status, number)
                if read is not None:
                    found.append(read)
    return found


def _status(status: Any, number: str) -> Status | None:
    wamid, state, stamp = _get(status, "id"), _get(status, "status"), _get(status, "timestamp")
    if not isinstance(wamid, str) or not wamid or not isinstance(state, str):
        return None
    try:
        timestamp = int(str(stamp))
    except ValueError:
        return None
    errors = tuple(
        StatusError(
            code if isinstance(code := _get(error, "code"), int) else None,
            str(_get(error, "title") or ""),
            str(_get(error, "message") or ""),
            str(_get(_get(error, "error_data"), "details") or ""),
        )
        for error in _list(_get(status, "errors"))
    )
    return Status(wamid, state, timestamp, str(_get(status, "recipient_id") or ""), number, errors)


def _get(value: Any, key: str) -> Any:
    return value.get(key) if isinstance(value, dict) else None


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


_HTTP_CODE = re.compile(r"http code (\d{3})", re.IGNORECASE)


MEDIA_UPLOAD_ERROR = 131053  # Meta's code for a media message whose file it could not take


def classify(code: int | None, details: str) -> str:
    """The cause of a failed media message, from its error code and details.

    Order matters: Meta's own proxy limiting your network reads "http code 429
    ... ratelimit by fwdproxy" (a 429 from your server has no fwdproxy), and an
    HTML page is reported as an unsupported MIME type (``text/html``): both are
    told apart before the general cases they would otherwise fall into. A 3xx
    is a redirect, never an error status of yours. 131053 covers every media
    cause, so the details tell them apart; the code keeps a message-level rate
    limit ("Rate limit hit", 130429 and its kin) out of Meta's fetch limit.
    """
    text = details.lower()
    status = _HTTP_CODE.search(text)
    compact = text.replace(" ", "").replace("-", "")
    if "fwdproxy" in text or (code == MEDIA_UPLOAD_ERROR and "ratelimit" in compact):
        return "meta_rate_limit"
    redirected = status is not None and status.group(1).startswith("3")
    if "text/html" in text or "redirect" in text or redirected:
        return "redirect_or_html"
    if status is not None:
        return "origin_http_error"
    if "mime type" in text or ("unsupported" in text and "type" in text):
        return "unsupported_type"
    if "too big" in text or "too large" in text or ("size" in text and "exceed" in text):
        return "too_large"
    if "expired" in text or ("media id" in text and ("invalid" in text or "not found" in text)):
        return "media_id_expired"
    return "unknown"


def first_error(status: Status) -> StatusError | None:
    return status.errors[0] if status.errors else None


def cause_of(status: Status) -> str | None:
    """A failed status's cause (from its first error); None for any other status."""
    if status.status != "failed":
        return None
    error = first_error(status)
    return classify(error.code, said(error)) if error is not None else "unknown"


def said(error: StatusError) -> str:
    """What the error says about the media: its details, else its message."""
    return error.details or error.message


def utc_day(timestamp: float) -> str:
    """``2026-12-03``: the day a status is kept under, by its own stamp."""
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")


def utc_days(start: float, end: float) -> list[str]:
    """Every day from ``start``'s to the day after ``end``'s (a sender's clock
    ahead of ours stamps tomorrow)."""
    first = datetime.fromtimestamp(start, UTC).date()
    last = datetime.fromtimestamp(end, UTC).date() + timedelta(days=1)
    return [(first + timedelta(days=n)).isoformat() for n in range((last - first).days + 1)]


def status_record(status: Status, received_at: float) -> bytes:
    """A status as the storage keeps it (one record per ``Status.key``)."""
    body = {
        "wamid": status.wamid,
        "status": status.status,
        "timestamp": status.timestamp,
        "recipient_id": status.recipient_id,
        "phone_number_id": status.phone_number_id,
        "errors": [
            {"code": e.code, "title": e.title, "message": e.message, "details": e.details}
            for e in status.errors
        ],
        "received_at": received_at,
    }
    return json.dumps(body, sort_keys=True).encode()


def status_from_record(data: bytes) -> Status | None:
    """A kept status read back; None for a torn or foreign record."""
    try:
        body = json.loads(data)
        errors = tuple(
            StatusError(
                e.get("code"), e.get("title", ""), e.get("message", ""), e.get("details", "")
            )
            for e in body.get("errors", [])
        )
        return Status(
            str(body["wamid"]),
            str(body["status"]),
            int(body["timestamp"]),
            str(body.get("recipient_id", "")),
            str(body.get("phone_number_id", "")),
            errors,
        )
    except (ValueError, TypeError, KeyError, AttributeError):
        return None
