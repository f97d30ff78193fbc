"""Would Meta accept this file? The checks behind ``media-origin check``, run on
the bytes themselves against the rules of ``origin.whatsapp``.

Every problem names its rule and its numbers. A problem of level ``error`` means
Meta refuses the file (verdict ``reject``); ``warning`` means Meta takes it but
something is off (verdict ``warn``); ``info`` is said and changes nothing,
such as a check that could not be run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from origin.isobmff import NotISOBMFF, read_movie
from origin.media_types import content_type_for
from origin.sniff import ACTIVE, HEAD_BYTES, base_type, same_kind, sniff
from origin.whatsapp import (
    RULES,
    STATIC_STICKER_MAX_BYTES,
    STICKER_PIXELS,
    MediaRule,
    rule_for_name,
)

ERROR, WARNING, INFO = "error", "warning", "info"
H264_PROFILES = {66: "Baseline", 77: "Main", 88: "Extended", 100: "High", 110: "High 10"}


@dataclass(frozen=True)
class Problem:
    code: str
    level: str
    message: str


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
            "problems": [{"code": p.code, "message": p.message} for p in self.problems],
        }


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
    report.problems += check_type(name, rule, report.content_type, actual)
    if rule is None or not same_kind(rule.content_type, actual):
        return report
    if rule.whatsapp_type != "sticker":  # a sticker's limit depends on being animated
        report.problems += check_size(rule, report.size)
    report.problems += _INSPECTORS.get(rule.whatsapp_type, _no_inspection)(file, rule, report)
    return report


def check_type(
    name: str, rule: MediaRule | None, content_type: str, actual: str | None
) -> list[Problem]:
    """The name's type against WhatsApp's table, and the bytes against the name."""
    problems = []
    if actual in ACTIVE:
        problems.append(
            Problem("active_content", ERROR, f"the bytes are {actual}: never a WhatsApp media type")
        )
    if rule is None:
        accepted = ", ".join(sorted({ext for r in RULES if r.official for ext in r.extensions}))
        problems.append(
            Problem(
                "unsupported_type",
                ERROR,
                f"{_extension(name) or 'a name without an extension'} ({content_type}) is not a "
                f"type WhatsApp accepts by link; accepted: {accepted}",
            )
        )
        return problems
    if not rule.official:
        problems.append(
            Problem(
                "unofficial_type",
                WARNING,
                f"{_extension(name)} is not in WhatsApp's list of {rule.whatsapp_type} types: "
                f"{rule.note}",
            )
        )
    if not same_kind(rule.content_type, actual):
        problems.append(
            Problem(
                "content_type_mismatch",
                ERROR,
                f"the bytes are {actual or 'of no known type'} but the name says "
                f"{base_type(rule.content_type)}; Meta rejects a Content-Type that does not match "
                "the bytes (error 131053)",
            )
        )
    return problems


def check_size(rule: MediaRule, size: int) -> list[Problem]:
    if size > rule.max_bytes:
        kind = f"{rule.whatsapp_type}s" if rule.whatsapp_type != "audio" else "audio files"
        return [
            Problem(
                "too_large",
                ERROR,
                f"{rule.whatsapp_type} is {format_size(size)}; WhatsApp {kind} are limited to "
                f"{format_size(rule.max_bytes)}",
            )
        ]
    return []


def _image(file: Path, rule: MediaRule, report: Report) -> list[Problem]:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(file) as image:
            mode, size, fmt = image.mode, image.size, image.format
            orientation = image.getexif().get(0x0112, 1)
            frames = getattr(image, "n_frames", 1)
    except (UnidentifiedImageError, OSError, ValueError) as error:
        return [Problem("unreadable", ERROR, f"Pillow cannot read this image: {error}")]
    problems = []
    depth = _png_bit_depth(file) if fmt == "PNG" else None
    if mode in ("CMYK", "YCbCr", "LAB", "I", "I;16", "F", "1") or (depth and depth != 8):
        what = f"{depth}-bit" if depth and depth != 8 else mode
        problems.append(
            Problem(
                "image_mode",
                ERROR,
                f"image is {what}; WhatsApp images must be 8-bit, RGB or RGBA",
            )
        )
    elif mode not in ("RGB", "RGBA") and rule.whatsapp_type == "image":
        problems.append(
            Problem(
                "image_mode",
                WARNING,
                f"image mode is {mode}; WhatsApp asks for 8-bit RGB or RGBA (convert it)",
            )
        )
    if orientation != 1:
        problems.append(
            Problem(
                "exif_rotation",
                WARNING,
                f"EXIF Orientation is {orientation}: Meta's image processor applies it, so the "
                "picture may not show the way it looks here; rotate the pixels instead",
            )
        )
    if rule.whatsapp_type == "sticker":
        problems += _sticker(size, frames, report.size, rule.max_bytes)
    return problems


def _sticker(
    dimensions: tuple[int, int], frames: int, size: int, animated_max: int
) -> list[Problem]:
    problems = []
    if dimensions != (STICKER_PIXELS, STICKER_PIXELS):
        problems.append(
            Problem(
                "sticker_dimensions",
                ERROR,
                f"sticker is {dimensions[0]}x{dimensions[1]} px; WhatsApp stickers must be "
                f"{STICKER_PIXELS}x{STICKER_PIXELS}",
            )
        )
    kind, limit = (
        ("static", STATIC_STICKER_MAX_BYTES) if frames == 1 else ("animated", animated_max)
    )
    if size > limit:
        problems.append(
            Problem(
                "too_large",
                ERROR,
                f"{kind} sticker is {format_size(size)}; WhatsApp {kind} stickers are limited to "
                f"{format_size(limit)}",
            )
        )
    return problems


def _video(file: Path, rule: MediaRule, report: Report) -> list[Problem]:
    movie, problem = _movie(file)
    if movie is None:
        return [problem]
    if movie.fragmented:
        return [Problem("check_skipped", INFO, "fragmented MP4: tracks were not inspected")]
    problems = []
    videos, audios = movie.handlers("vide"), movie.handlers("soun")
    if not videos:
        problems.append(Problem("no_video_track", ERROR, "the file has no video track"))
    for track in videos:
        if track.codec not in ("avc1", "avc3"):
            problems.append(
                Problem(
                    "video_codec",
                    ERROR,
                    f"video codec is {track.codec}; WhatsApp plays only H.264 video",
                )
            )
            continue
        profile = H264_PROFILES.get(track.h264_profile, f"profile {track.h264_profile}")
        if track.h264_profile is not None and track.h264_profile >= 100:
            problems.append(
                Problem(
                    "h264_high_profile",
                    WARNING,
                    f"H.264 {profile} profile; Android WhatsApp does not support High profile "
                    "with B-frames: use Main without B-frames, or Baseline",
                )
            )
        if track.has_composition_offsets:
            problems.append(
                Problem(
                    "b_frames",
                    WARNING,
                    f"the H.264 {profile} stream has B-frames (composition offsets); Android "
                    "WhatsApp may not play it: encode with -bf 0",
                )
            )
    problems += _audio_tracks(audios, allow_none=True)
    if movie.moov_before_mdat is False:
        problems.append(
            Problem(
                "moov_after_mdat",
                WARNING,
                "the moov box comes after mdat; Meta asks for moov first "
                "(ffmpeg -movflags +faststart)",
            )
        )
    return problems


def _audio_tracks(audios: list, allow_none: bool) -> list[Problem]:
    problems = []
    if len(audios) > 1:
        problems.append(
            Problem(
                "audio_tracks",
                ERROR,
                f"{len(audios)} audio tracks; WhatsApp takes one audio stream or none",
            )
        )
    if not audios and not allow_none:
        problems.append(Problem("no_audio_track", ERROR, "the file has no audio track"))
    for track in audios:
        if track.codec != "mp4a" or track.audio_object_type not in (0x40, 0x66, 0x67, 0x68):
            codec = track.codec if track.codec != "mp4a" else f"mp4a/{track.audio_object_type}"
            problems.append(
                Problem("audio_codec", ERROR, f"audio codec is {codec}; WhatsApp takes only AAC")
            )
    return problems


def _movie(file: Path):
    try:
        with file.open("rb") as handle:
            return read_movie(handle), None
    except NotISOBMFF as error:
        return None, Problem("unreadable", ERROR, f"not a readable MP4/3GP file: {error}")


def _audio(file: Path, rule: MediaRule, report: Report) -> list[Problem]:
    extension = _extension(report.path)
    if extension == ".m4a":
        movie, problem = _movie(file)
        return [problem] if movie is None else _audio_tracks(movie.handlers("soun"), False)
    if extension in (".ogg", ".opus"):
        return _ogg(file)
    if extension in (".mp3", ".aac"):
        return _mutagen_readable(file, extension)
    return []  # .amr: the signature is all there is to check


def _ogg(file: Path) -> list[Problem]:
    import mutagen
    from mutagen.oggopus import OggOpus

    try:
        audio = mutagen.File(file)
    except mutagen.MutagenError as error:
        return [Problem("unreadable", ERROR, f"mutagen cannot read this Ogg file: {error}")]
    if not isinstance(audio, OggOpus):
        codec = type(audio).__name__.removeprefix("Ogg") if audio is not None else "unknown"
        return [
            Problem(
                "ogg_not_opus",
                ERROR,
                f"Ogg audio is {codec}; WhatsApp takes only Opus in Ogg",
            )
        ]
    if audio.info.channels != 1:
        return [
            Problem(
                "ogg_channels",
                ERROR,
                f"Opus audio has {audio.info.channels} channels; WhatsApp takes mono input only",
            )
        ]
    return []


def _mutagen_readable(file: Path, extension: str) -> list[Problem]:
    from mutagen import MutagenError
    from mutagen.aac import AAC
    from mutagen.mp3 import MP3

    reader = MP3 if extension == ".mp3" else AAC
    try:
        reader(file)
    except MutagenError as error:
        return [Problem("unreadable", ERROR, f"no valid {extension[1:].upper()} stream: {error}")]
    return []


def _no_inspection(file: Path, rule: MediaRule, report: Report) -> list[Problem]:
    return []


_INSPECTORS = {"image": _image, "sticker": _image, "video": _video, "audio": _audio}


def _png_bit_depth(file: Path) -> int | None:
    with file.open("rb") as handle:
        header = handle.read(26)
    return header[24] if len(header) == 26 and header[12:16] == b"IHDR" else None


def _extension(name: str) -> str:
    base = name.rsplit("/", 1)[-1]
    return base[base.rfind(".") :].lower() if "." in base else ""


def format_size(size: int) -> str:
    """Decimal units, as Meta writes its limits: 6.2 MB, 120 KB."""
    if size >= 1_000_000:
        return f"{size / 1_000_000:.1f} MB".replace(".0 MB", " MB")
    if size >= 1000:
        return f"{size / 1000:.1f} KB".replace(".0 KB", " KB")
    return f"{size} bytes"
