"""What a media file is, as the conversion recipes need to know it: its container,
duration, size and streams. Built from ffprobe's JSON (``facts_from_ffprobe``)
by a pure function, so that the recipes can be tested with plain tables and the
process that runs ffprobe stays a thin wrapper (``origin.convert.tools``).

The same record describes a conversion's input and its output in the upload's
answer (``describe``): what a sender reads to see what was changed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# ffprobe's names, shortened to what a person reads in an answer.
CONTAINER_NAMES = {
    "mov,mp4,m4a,3gp,3g2,mj2": "MP4/QuickTime",
    "matroska,webm": "WebM/Matroska",
    "ogg": "Ogg",
    "wav": "WAV",
    "flac": "FLAC",
    "amr": "AMR",
    "mp3": "MP3",
    "aac": "ADTS AAC",
    "avi": "AVI",
}


# The ISO-BMFF family, named by the file's extension.
ISOBMFF_NAMES = {".mov": "QuickTime", ".mp4": "MP4", ".m4a": "M4A", ".3gp": "3GP", ".m4v": "MP4"}


def container_name(format_name: str, name: str = "") -> str:
    if format_name.startswith("mov,mp4"):
        extension = name[name.rfind(".") :].lower() if "." in name.rsplit("/", 1)[-1] else ""
        return ISOBMFF_NAMES.get(extension, "MP4/QuickTime")
    return CONTAINER_NAMES.get(format_name, format_name)


@dataclass(frozen=True, slots=True)
class StreamFacts:
    kind: str  # "video" | "audio" | anything else ffprobe says (subtitle, data)
    codec: str
    profile: str = ""
    pixel_format: str = ""
    width: int = 0
    height: int = 0
    b_frames: int = 0  # ffprobe's has_b_frames: frames of reorder delay, 0 without B-frames
    channels: int = 0
    sample_rate: int = 0
    bit_rate: int = 0  # bits per second, 0 when not known
    cover_art: bool = False  # a still picture attached to an audio file


@dataclass(frozen=True, slots=True)
class MediaFacts:
    container: str  # ffprobe's format_name
    duration: float | None  # seconds
    size: int
    streams: tuple[StreamFacts, ...]
    moov_first: bool | None = None  # MP4 only: whether moov comes before mdat
    name: str = ""  # the file's name: its extension tells MP4 from QuickTime

    @property
    def label(self) -> str:
        return container_name(self.container, self.name) if self.container else "unknown"

    @property
    def video(self) -> StreamFacts | None:
        """The first moving-picture stream (cover art is not a video)."""
        return next((s for s in self.streams if s.kind == "video" and not s.cover_art), None)

    @property
    def audio(self) -> tuple[StreamFacts, ...]:
        return tuple(stream for stream in self.streams if stream.kind == "audio")

    def describe(self, whatsapp_type: str | None) -> dict[str, object]:
        """The JSON of a conversion's "from" or "to": type, container, codecs, size,
        dimensions and duration, leaving out what the file does not have."""
        body: dict[str, object] = {
            "type": whatsapp_type,
            "container": self.label,
            "size": self.size,
        }
        if self.duration is not None:
            body["duration"] = round(self.duration, 3)
        if (video := self.video) is not None:
            body["video"] = {
                "codec": video.codec,
                "profile": video.profile or None,
                "pixel_format": video.pixel_format or None,
                "b_frames": video.b_frames,
                "width": video.width,
                "height": video.height,
            }
        if self.audio:
            first = self.audio[0]
            body["audio"] = {
                "codec": first.codec,
                "channels": first.channels,
                "sample_rate": first.sample_rate,
                "streams": len(self.audio),
            }
        return body


def facts_from_ffprobe(
    document: dict[str, Any], size: int, moov_first: bool | None = None, name: str = ""
) -> MediaFacts:
    """``ffprobe -show_format -show_streams -print_format json`` as facts.

    ffprobe leaves out what it does not know and writes numbers as strings; both
    are read leniently, since a value missing here only makes a recipe re-encode
    what it might have copied, never produce a wrong file (every output is checked).
    """
    form = document.get("format") or {}
    streams = tuple(_stream(entry) for entry in document.get("streams") or ())
    return MediaFacts(
        container=str(form.get("format_name", "")),
        duration=_positive(form.get("duration")) or _longest(document.get("streams") or ()),
        size=size,
        streams=streams,
        moov_first=moov_first,
        name=name,
    )


def _stream(entry: dict[str, Any]) -> StreamFacts:
    disposition = entry.get("disposition") or {}
    return StreamFacts(
        kind=str(entry.get("codec_type", "")),
        codec=str(entry.get("codec_name", "")),
        profile=str(entry.get("profile", "")),
        pixel_format=str(entry.get("pix_fmt", "")),
        width=_integer(entry.get("width")),
        height=_integer(entry.get("height")),
        b_frames=_integer(entry.get("has_b_frames")),
        channels=_integer(entry.get("channels")),
        sample_rate=_integer(entry.get("sample_rate")),
        bit_rate=_integer(entry.get("bit_rate")),
        cover_art=bool(disposition.get("attached_pic")),
    )


def _integer(value: object) -> int:
    try:
        return max(0, int(str(value)))
    except ValueError:
        return 0


def _positive(value: object) -> float | None:
    try:
        number = float(str(value))
    except ValueError:
        return None
    return number if number > 0 and number == number and number != float("inf") else None


def _longest(streams: Any) -> float | None:
    durations = [d for entry in streams if (d := _positive(entry.get("duration"))) is not None]
    return max(durations, default=None)
