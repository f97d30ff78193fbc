"""Would Meta accept this file? The checks behind ``media-origin check`` and the
upload API, run on the bytes themselves against the rules of ``origin.whatsapp``.

Every problem names its rule and its numbers (``problems`` has the levels and
the verdict). This module is the dispatch: the name's type and the bytes' type
first, for every file; then, only when the bytes are what the name says, the
size and the checks of that kind of media (``images``, ``audio``, ``video``).
A file of the wrong type is not decoded: its problems would be those of another
format.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from origin.whatsapp.audio import inspect_audio
from origin.whatsapp.images import inspect_image
from origin.whatsapp.media_types import content_type_for, is_script_capable, script_capable_name
from origin.whatsapp.problems import (
    ERROR,
    WARNING,
    Problem,
    Report,
    check_size,
    extension_of,
)
from origin.whatsapp.rules import RULES, MediaRule, command_for, convert_hint, rule_for_name
from origin.whatsapp.sniff import (
    ACTIVE,
    HEAD_BYTES,
    Markup,
    base_type,
    find_markup,
    same_kind,
    sniff,
)
from origin.whatsapp.video import inspect_video

# The vocabulary stays importable from here, as before the split; new code
# imports it from origin.whatsapp.problems.
REFUSED_ALWAYS = "active content, refused by the upload API even with ?force=true"

Inspector = Callable[[Path, MediaRule, Report], list[Problem]]
"""The checks of one kind of media, on a file whose bytes are what its name says."""


def inspect_file(file: Path, name: str | None = None) -> Report:
    """Check ``file``; ``name`` (default: its own) is the name it is served under."""
    name = name or file.name
    rule = rule_for_name(name)
    report = Report(
        path=name,
        whatsapp_type=rule.whatsapp_type if rule else None,
        content_type=content_type_for(name),
        size=file.stat().st_size,
    )
    with file.open("rb") as handle:
        head = handle.read(HEAD_BYTES)
    actual = sniff(head, file)
    markup = find_markup(head) if actual in ACTIVE else None
    report.problems += check_type(name, rule, report.content_type, actual, markup)
    if rule is None or not same_kind(rule.content_type, actual):
        return report
    if rule.whatsapp_type != "sticker":  # a sticker's limit depends on being animated
        report.problems += check_size(rule, report.size, name)
    report.problems += INSPECTORS.get(rule.whatsapp_type, _no_inspection)(file, rule, report)
    return report


def _no_inspection(file: Path, rule: MediaRule, report: Report) -> list[Problem]:
    return []  # documents: checked by their type and size alone


INSPECTORS: dict[str, Inspector] = {
    "image": inspect_image,
    "sticker": inspect_image,
    "video": inspect_video,
    "audio": inspect_audio,
}


def check_type(
    name: str,
    rule: MediaRule | None,
    content_type: str,
    actual: str | None,
    markup: Markup | None = None,
) -> list[Problem]:
    """The name's type against WhatsApp's table, and the bytes against the name.

    Active content is decided twice, by the name (the type it is served as) and
    by the bytes (``actual``, with ``markup`` saying where), because each alone
    can be dodged: a harmless name on an HTML page, or a .js of plain text.
    """
    problems = _active_content(name, content_type, actual, markup)
    if rule is None:
        return [*problems, _unsupported_type(name, content_type)]
    if not rule.official:
        problems.append(
            Problem(
                "unofficial_type",
                WARNING,
                f"{extension_of(name)} is not in WhatsApp's list of {rule.whatsapp_type} types: "
                f"{rule.note}; {_official_name_hint(name, rule)}",
            )
        )
    if not same_kind(rule.content_type, actual):
        problems.append(
            Problem(
                "content_type_mismatch",
                ERROR,
                f"the bytes are {actual or 'of no known type'} but the name says "
                f"{base_type(rule.content_type)}; Meta rejects a Content-Type that does not match "
                f"the bytes (error 131053); {_mismatch_hint(name, rule, actual)}",
            )
        )
    return problems


def _active_content(
    name: str, content_type: str, actual: str | None, markup: Markup | None
) -> list[Problem]:
    """Active content by the name, then by the bytes: one problem each."""
    problems = []
    if script_capable_name(name):
        problems.append(Problem("active_content", ERROR, _active_name_message(name, content_type)))
    if actual in ACTIVE:
        where = f" ({markup.describe()})" if markup is not None else ""
        problems.append(
            Problem(
                "active_content",
                ERROR,
                f"the bytes are {actual} markup{where}: a browser would run it as a page; "
                f"{REFUSED_ALWAYS}: send a document as PDF, a picture as PNG or JPEG",
            )
        )
    return problems


def _unsupported_type(name: str, content_type: str) -> Problem:
    accepted = ", ".join(sorted({ext for r in RULES if r.official for ext in r.extensions}))
    return Problem(
        "unsupported_type",
        ERROR,
        f"{extension_of(name) or 'a name without an extension'} ({content_type}) is not a "
        f"type WhatsApp accepts by link; accepted: {accepted}; {convert_hint(name)}",
    )


def _active_name_message(name: str, content_type: str) -> str:
    extension = extension_of(name) or name
    if is_script_capable(content_type):
        served = f"{extension} is served as {content_type}, a type browsers run script in"
    else:
        served = (
            f"{extension} is served here as {content_type}, but other servers and CDNs serve "
            f"{extension} as a type browsers run script in"
        )
    return f"{served}; {REFUSED_ALWAYS}: send a document as PDF, a picture as PNG or JPEG"


def _official_name_hint(name: str, rule: MediaRule) -> str:
    """An unofficial extension's fix: the listed extension of the same type."""
    listed = next(
        (r.extensions[0] for r in RULES if r.official and r.content_type == rule.content_type),
        None,
    )
    return f"rename it to {listed}" if listed else "convert it to a listed type"


def _mismatch_hint(name: str, rule: MediaRule, actual: str | None) -> str:
    """What to do when the bytes are not what the name says."""
    if actual == "image/webp" and rule.whatsapp_type == "image":
        return f"WebP is only for stickers; send it as a JPEG or PNG: {command_for('image', name)}"
    real = next((r for r in RULES if r.official and same_kind(r.content_type, actual)), None)
    if real is not None:
        return f"rename it to {real.extensions[0]}, the extension of what the bytes are"
    if rule.whatsapp_type in ("image", "audio", "video"):
        return f"convert it: {command_for(rule.whatsapp_type, name)}"
    return "send the file the name says (export it again)"
