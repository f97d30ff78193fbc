"""The vocabulary every check speaks: a Problem, the Report that gathers them,
the three levels, and the few problems more than one check raises.

Kept apart from the checks themselves so that the pure ones (``responses``, run
on a link's answer) can speak it without importing Pillow or mutagen.

A problem of level ``error`` means Meta refuses the file (verdict ``reject``);
``warning`` means Meta takes it but something is off (verdict ``warn``); ``info``
is said and changes nothing, such as a check that could not be run.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from origin.whatsapp.rules import MediaRule, shrink_hint

ERROR, WARNING, INFO = "error", "warning", "info"


@dataclass(frozen=True)
class Problem:
    code: str
    level: str
    message: str

    def to_json(self) -> dict[str, str]:
        """The one JSON shape of a problem: in upload answers, refusals, check and explain."""
        return {"code": self.code, "level": self.level, "message": self.message}


@dataclass
class Report:
    path: str
    whatsapp_type: str | None
    content_type: str
    size: int
    problems: list[Problem] = field(default_factory=list)

    @property
    def verdict(self) -> str:
        levels = {problem.level for problem in self.problems}
        return "reject" if ERROR in levels else "warn" if WARNING in levels else "ok"

    def to_json(self) -> dict[str, object]:
        return {
            "path": self.path,
            "whatsapp_type": self.whatsapp_type,
            "content_type": self.content_type,
            "size": self.size,
            "verdict": self.verdict,
            "problems": [p.to_json() for p in self.problems],
        }


def format_size(size: int) -> str:
    """Decimal units, as Meta writes its limits: 6.2 MB, 120 KB."""
    if size >= 1_000_000:
        return f"{size / 1_000_000:.1f} MB".replace(".0 MB", " MB")
    if size >= 1000:
        return f"{size / 1000:.1f} KB".replace(".0 KB", " KB")
    return f"{size} bytes"


def check_size(rule: MediaRule, size: int, name: str = "") -> list[Problem]:
    """The measured size (bytes too, since limits are decimal MB), the limit and the fix.

    Here rather than with the file checks because a link's Content-Length is
    judged by the same rule, before any byte of the file is read.
    """
    if size > rule.max_bytes:
        kind = f"{rule.whatsapp_type}s" if rule.whatsapp_type != "audio" else "audio files"
        return [
            Problem(
                "too_large",
                ERROR,
                f"{rule.whatsapp_type} is {format_size(size)} ({size:,} bytes); WhatsApp {kind} "
                f"are limited to {format_size(rule.max_bytes)}: "
                f"{shrink_hint(rule.whatsapp_type, name or 'media' + rule.extensions[0])}",
            )
        ]
    return []


def truncated(what: str, level: str = ERROR) -> Problem:
    """A file cut short, whatever its format: the one fix is the same for all."""
    return Problem(
        "truncated",
        level,
        f"{what}: the file was cut, most often mid-upload; send the whole file again",
    )


def base_name(path: str) -> str:
    """The last segment of a served path: the name a fix's command is written for."""
    return path.rsplit("/", 1)[-1]


def extension_of(name: str) -> str:
    """The lower-case extension of the last segment, dot included; "" when none."""
    base = base_name(name)
    return base[base.rfind(".") :].lower() if "." in base else ""
