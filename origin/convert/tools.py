"""ffprobe and ffmpeg, from the system's packages, as the recipes need them:
where they are (``find_tools``, said at start-up), what a file is (``probe``)
and a plan run (``transcode``) with its progress. ffmpeg's progress output
(``-progress pipe:1``) is read by a pure function, ``progress_percent``.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from origin.convert.processes import Finished, Limits, run
from origin.whatsapp.isobmff import NotISOBMFF, Truncated, read_movie
from origin.whatsapp.media_facts import MediaFacts, StreamFacts, facts_from_ffprobe
from origin.whatsapp.recipes import Plan


@dataclass(frozen=True, slots=True)
class Tools:
    ffmpeg: str | None  # the executable's path, None when it is not installed
    ffprobe: str | None
    version: str = ""  # ffmpeg's first line of -version

    @property
    def missing(self) -> str | None:
        """Why audio and video cannot be converted here, or None when they can."""
        absent = [
            name
            for name, path in (("ffmpeg", self.ffmpeg), ("ffprobe", self.ffprobe))
            if path is None
        ]
        if not absent:
            return None
        return (
            f"{' and '.join(absent)} {'is' if len(absent) == 1 else 'are'} not installed on "
            "this server, so audio and video cannot be converted; install the ffmpeg package "
            "(apt-get install ffmpeg), or upload a file WhatsApp accepts as it is"
        )


class ConversionFailed(Exception):
    """ffmpeg or ffprobe could not do it: the input is not what it claims (422),
    or the conversion ran out of time or memory."""

    def __init__(self, code: str, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


def find_tools(ffmpeg: str, ffprobe: str) -> Tools:
    found_ffmpeg, found_ffprobe = shutil.which(ffmpeg), shutil.which(ffprobe)
    version = ""
    if found_ffmpeg is not None:
        try:
            answer = subprocess.run(
                [found_ffmpeg, "-version"], capture_output=True, text=True, timeout=10
            )
            first = answer.stdout.splitlines()[0] if answer.stdout else ""
            version = first.split(" Copyright")[0]  # "ffmpeg version 5.1.9-0+deb12u1"
        except (OSError, subprocess.SubprocessError):
            found_ffmpeg = None
    return Tools(found_ffmpeg, found_ffprobe, version)


async def probe(tools: Tools, file: Path, limits: Limits, name: str = "") -> MediaFacts:
    """What the file is; ConversionFailed when ffprobe cannot read it as media."""
    assert tools.ffprobe is not None
    argv = [
        tools.ffprobe,
        "-v",
        "error",
        "-print_format",
        "json",
        "-show_format",
        "-show_streams",
        str(file),
    ]
    finished = await run(argv, limits, file.parent)
    raise_for(finished, "read", limits, "ffprobe")
    try:
        document = json.loads(finished.stdout or b"{}")
    except ValueError:
        document = {}
    facts = facts_from_ffprobe(document, file.stat().st_size, _moov_first(file), name or file.name)
    if not facts.streams:
        raise ConversionFailed(
            "unreadable", "the file holds no audio or video stream ffmpeg can read; export it again"
        )
    return facts


async def read_back(tools: Tools, output: Path, limits: Limits) -> MediaFacts:
    """What a conversion made, read from its bytes for the answer's "to".

    A video is read by ffprobe (its profile and B-frames are ffprobe's to say).
    An audio output is read in-process by mutagen, the reader ``check`` uses:
    ffprobe spends some 70 ms loading its libraries, a sixth of a voice note's
    whole conversion, to say what mutagen reads in one millisecond.
    """
    if output.suffix in AUDIO_READ_BACK:
        facts = await asyncio.to_thread(_audio_facts, output)
        if facts is not None:
            return facts
    return await probe(tools, output, limits)


# The outputs of the audio recipes, with ffprobe's name of their container.
AUDIO_READ_BACK = {".ogg": "ogg", ".m4a": "mov,mp4,m4a,3gp,3g2,mj2"}


def _audio_facts(file: Path) -> MediaFacts | None:
    """mutagen's reading as facts; None when it cannot say (ffprobe then reads it).
    Opus always decodes at 48 kHz (RFC 7845), which is why mutagen gives no rate."""
    import mutagen
    from mutagen.mp4 import MP4
    from mutagen.oggopus import OggOpus

    try:
        audio = mutagen.File(file)
    except Exception:  # mutagen's own errors, and struct.error etc. on odd bytes
        return None
    if isinstance(audio, OggOpus):
        codec = "opus"
    elif isinstance(audio, MP4) and audio.info.codec.startswith("mp4a.40."):
        codec = "aac"
    else:
        return None
    info = audio.info
    stream = StreamFacts(
        "audio",
        codec,
        channels=int(info.channels),
        sample_rate=int(getattr(info, "sample_rate", 0) or 48000),
        bit_rate=int(getattr(info, "bitrate", 0) or 0),
    )
    return MediaFacts(
        AUDIO_READ_BACK[file.suffix],
        float(info.length),
        file.stat().st_size,
        (stream,),
        name=file.name,
    )


def _moov_first(file: Path) -> bool | None:
    try:
        with file.open("rb") as handle:
            return read_movie(handle).moov_before_mdat
    except (NotISOBMFF, Truncated, OSError, ValueError):
        return None


async def transcode(
    tools: Tools,
    source: Path,
    output: Path,
    plan: Plan,
    duration: float | None,
    limits: Limits,
    progress: Callable[[int], None],
) -> None:
    """Run the plan from ``source`` to ``output``, telling ``progress`` percents."""
    assert tools.ffmpeg is not None
    argv = [
        tools.ffmpeg,
        "-nostdin",
        "-hide_banner",
        "-v",
        "error",
        "-y",
        "-i",
        str(source),
        *plan.options,
        "-progress",
        "pipe:1",
        "-nostats",
        str(output),
    ]

    def on_line(line: bytes) -> None:
        percent = progress_percent(line, duration)
        if percent is not None:
            progress(percent)

    finished = await run(argv, limits, output.parent, on_line)
    raise_for(finished, "convert", limits)
    if not output.exists() or output.stat().st_size == 0:
        raise ConversionFailed("conversion_failed", "ffmpeg wrote nothing; the input may be cut")


def progress_percent(line: bytes, duration: float | None) -> int | None:
    """A percent from one line of ``-progress`` output, or None for the others.

    ffmpeg writes ``out_time_us=<microseconds>`` (``out_time_ms`` is microseconds
    too, despite its name) as it goes, and ``progress=end`` when done.
    """
    if line.startswith(b"progress=end"):
        return 100
    if not line.startswith(b"out_time_us=") or not duration or duration <= 0:
        return None
    value = line[len(b"out_time_us=") :].strip()
    if not value.isdigit():
        return None  # "N/A" before the first frame
    return max(0, min(99, int(int(value) / 1e6 / duration * 100)))


def raise_for(finished: Finished, doing: str, limits: Limits, program: str = "ffmpeg") -> None:
    """The one way a child's failure becomes an error that says what to do."""
    if finished.timed_out:
        raise ConversionFailed(
            "conversion_timeout",
            f"the conversion took longer than {limits.seconds:g} s ([convert] timeout) and was "
            "stopped; trim the file, or raise the timeout",
        )
    if finished.out_of_memory:
        raise ConversionFailed(
            "conversion_memory",
            f"the conversion needed more than {limits.memory_bytes // 2**20} MB of memory "
            "([convert] memory_mb) and was stopped; send a smaller file",
        )
    if finished.returncode != 0:
        last = finished.stderr.strip().splitlines()[-1:] or ["no reason given"]
        raise ConversionFailed(
            "unreadable" if doing == "read" else "conversion_failed",
            f"{program} could not {doing} the file ({last[0][:300]}); it may be cut or not "
            "what its name says: export it again",
        )
