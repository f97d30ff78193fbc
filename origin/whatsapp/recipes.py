"""Conversion recipes as data: for each target WhatsApp accepts, what it is
(``TARGETS``), and the pure decisions that reach it from what a file is
(``plan_video``, ``plan_audio``): the ffmpeg options to run and each step in words.

The recipes do the least that works, as the field learned to (immich, WAHA,
chatwoot): a stream that already meets the rule is copied, not re-encoded, so a
file whose only fault is its container or the place of its moov box is remuxed
in a moment and loses nothing; only the stream that fails is encoded again, at
the highest bitrate the size limit leaves room for. Images and stickers, made
with Pillow, have theirs in ``picture_recipes``.

A plan is a value; running it is ``origin.convert``'s, and checking what it made
is ``inspection``'s, the same checks as ``media-origin check``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from origin.policy import CONVERT_AS
from origin.whatsapp.media_facts import MediaFacts, StreamFacts
from origin.whatsapp.problems import Report, extension_of, format_size
from origin.whatsapp.rules import KB, MB, STATIC_STICKER_MAX_BYTES, rule_for_name


@dataclass(frozen=True, slots=True)
class Target:
    """What a conversion produces: a WhatsApp type in one container."""

    name: str  # what ``?as=`` names
    whatsapp_type: str
    extension: str
    max_bytes: int
    description: str


TARGETS: dict[str, Target] = {
    "image": Target(
        "image", "image", ".jpg", 5 * MB, "JPEG (PNG when transparent), 8-bit RGB or RGBA"
    ),
    "sticker": Target(
        "sticker",
        "sticker",
        ".webp",
        500 * KB,
        f"WebP, 512x512, up to {format_size(STATIC_STICKER_MAX_BYTES)} static "
        f"and {format_size(500 * KB)} animated",
    ),
    "voice": Target("voice", "audio", ".ogg", 16 * MB, "Ogg/Opus, mono, 48 kHz"),
    "audio": Target("audio", "audio", ".m4a", 16 * MB, "AAC in an M4A file"),
    "audio-opus": Target("audio", "audio", ".ogg", 16 * MB, "Ogg/Opus, mono, 48 kHz"),
    "video": Target(
        "video",
        "video",
        ".mp4",
        16 * MB,
        "MP4, H.264 Main without B-frames, yuv420p, one AAC audio stream, moov first",
    ),
}
# Names Pillow reads as pictures (HEIC with pillow-heif); everything else is
# asked of ffprobe, which tells audio from video by the streams, not the name
# (a .webm is a browser's voice note as often as a video).
ASKABLE = CONVERT_AS  # the values of ?as=, and of a folder's convert_as
PICTURE_EXTENSIONS = frozenset(
    {".jpg", ".jpeg", ".png", ".webp", ".gif", ".bmp", ".tif", ".tiff", ".heic", ".heif"}
)

VOICE_PLAY_BYTES = 512 * KB  # WhatsApp shows a voice note's play button up to this size
VOICE_KBPS = (32, 16)  # the best and the least bitrate of a voice note
MUSIC_KBPS = (128, 32)  # AAC or Opus for audio that is not a voice note
VIDEO_CEILING_KBPS = 8000  # a cap for short clips: past it, CRF 23 decides alone
VIDEO_FLOOR_KBPS = 300  # below this the picture is not worth sending: refuse instead
VIDEO_AUDIO_KBPS = (128, 64)  # a video's audio when re-encoded, roomy and tight
SIZE_MARGIN = 0.92  # of the limit a bitrate aims at: container overhead, encoder overshoot
H264_READY_PROFILES = ("Main", "Baseline", "Constrained Baseline")
EVEN_SIZE = "scale=trunc(iw/2)*2:trunc(ih/2)*2"  # yuv420p needs even dimensions


@dataclass(frozen=True, slots=True)
class Plan:
    """One ffmpeg run: its output options (after ``-i input``) and the steps in words."""

    target: Target
    options: tuple[str, ...]
    steps: tuple[str, ...]
    encodes: bool  # False: every stream is copied (a remux, done in a moment)


@dataclass(frozen=True, slots=True)
class Unconvertible:
    """Why no recipe can make this input into the target: a 422 with the figures."""

    code: str
    message: str


def choose_target(
    kind: str, asked: str | None, folder_as: str | None, audio_codec: str = "aac"
) -> Target | Unconvertible:
    """What to make of a picture, a video or an audio file (``kind``): what the
    request asked (``?as=``), else what its folder makes, else its own kind."""
    fits = {
        "picture": ("image", "sticker"),
        "video": ("video", "audio", "voice"),
        "audio": ("audio", "voice"),
    }[kind]
    if asked is not None and asked not in fits:
        made = {"picture": "a picture", "video": "a video", "audio": "audio"}[kind]
        return Unconvertible(
            "wrong_target", f"{made} cannot be made into {asked}; it can become {' or '.join(fits)}"
        )
    name = asked or (folder_as if folder_as in fits else None) or fits[0]
    if name == "audio" and audio_codec == "opus":
        return TARGETS["audio-opus"]
    return TARGETS[name]


def already_fine(report: Report, target: Target) -> bool:
    """A file the target's rules pass as it is: stored byte for byte, untouched."""
    rule = rule_for_name(report.path)
    if report.verdict != "ok" or rule is None or rule.whatsapp_type != target.whatsapp_type:
        return False
    return target.name != "voice" or extension_of(report.path) == ".ogg"


def converted_name(name: str, extension: str) -> str:
    """``clip.mov`` -> ``clip.mp4``: the name follows the new type (``.jpeg``
    stays, being a JPEG's name too)."""
    own = extension_of(name)
    if own == extension or (own == ".jpeg" and extension == ".jpg"):
        return name
    base = name[: len(name) - len(own)] if own else name
    return base + extension


def fitting_kbps(max_bytes: int, seconds: float, shrink: float = 1.0) -> int:
    """The highest whole bitrate, in kb/s, at which ``seconds`` fit ``max_bytes``."""
    return math.floor(max_bytes * 8 * SIZE_MARGIN * shrink / max(seconds, 0.001) / 1000)


def plan_video(facts: MediaFacts, target: Target, shrink: float = 1.0) -> Plan | Unconvertible:
    """MP4 with H.264 Main, no B-frames, yuv420p, one AAC stream, moov first.

    ``shrink`` < 1 is a second attempt after an encode came out over the limit:
    the same recipe aiming at a smaller share of it.
    """
    video = facts.video
    if video is None:
        return Unconvertible(
            "no_video_stream", "the file has no video stream; send it as audio (?as=audio)"
        )
    duration = facts.duration or 0.0
    options: list[str] = ["-map", "0:v:0"]
    steps: list[str] = []
    copy_video = _video_ready(video) and facts.size <= target.max_bytes and shrink == 1.0
    audio = facts.audio[0] if facts.audio else None
    copy_audio = audio is not None and audio.codec == "aac"
    audio_kbps = 0 if audio is None or copy_audio else _video_audio_kbps(target, duration)
    if copy_video:
        options += ["-c:v", "copy"]
        steps.append(f"kept the {_video_words(video)} video stream as it is")
    else:
        if duration <= 0:
            return Unconvertible(
                "unknown_duration",
                "the video's duration cannot be read, so no bitrate can be chosen to fit "
                f"{format_size(target.max_bytes)}; export it again",
            )
        total = fitting_kbps(target.max_bytes, duration, shrink)
        copied_audio_kbps = audio.bit_rate // 1000 if copy_audio and audio is not None else 0
        video_kbps = total - audio_kbps - copied_audio_kbps
        if video_kbps < VIDEO_FLOOR_KBPS:
            return Unconvertible("cannot_fit", _cannot_fit(duration, target))
        video_kbps = min(video_kbps, VIDEO_CEILING_KBPS)
        options += [
            "-c:v",
            "libx264",
            "-profile:v",
            "main",
            "-bf",
            "0",
            "-pix_fmt",
            "yuv420p",
            "-crf",
            "23",
            "-maxrate",
            f"{video_kbps}k",
            "-bufsize",
            f"{video_kbps * 2}k",
            "-preset",
            "fast",
            "-vf",
            EVEN_SIZE,
        ]
        steps.append(
            f"re-encoded the video from {_video_words(video)} to H.264 Main without B-frames, "
            f"yuv420p, at quality CRF 23 and at most {video_kbps} kb/s, so that it fits "
            f"{format_size(target.max_bytes)}"
        )
    if audio is not None:
        options += ["-map", "0:a:0"]
        if copy_audio:
            options += ["-c:a", "copy"]
            steps.append("kept the AAC audio stream as it is")
        else:
            options += ["-c:a", "aac", "-b:a", f"{audio_kbps}k"]
            steps.append(f"re-encoded the audio from {audio.codec} to AAC at {audio_kbps} kb/s")
        if len(facts.audio) > 1:
            steps.append(f"kept the first of {len(facts.audio)} audio streams (WhatsApp plays one)")
    if facts.label != "MP4":
        steps.insert(0, f"moved the streams from {facts.label} into MP4")
    elif facts.moov_first is False:
        steps.append("moved the moov box before mdat (+faststart), as Meta asks")
    options += ["-sn", "-dn", "-map_metadata", "-1", "-movflags", "+faststart", "-f", "mp4"]
    return Plan(target, tuple(options), tuple(steps), encodes=not (copy_video and copy_audio))


def _video_ready(video: StreamFacts) -> bool:
    return (
        video.codec == "h264"
        and video.profile in H264_READY_PROFILES
        and video.b_frames == 0
        and video.pixel_format == "yuv420p"
    )


def _video_audio_kbps(target: Target, duration: float) -> int:
    roomy, tight = VIDEO_AUDIO_KBPS
    if duration <= 0:
        return roomy
    return roomy if fitting_kbps(target.max_bytes, duration) >= 4 * roomy else tight


def _cannot_fit(duration: float, target: Target) -> str:
    minutes = duration / 60
    length = f"{minutes:.0f}-minute" if minutes >= 1 else f"{duration:.0f}-second"
    most = fitting_kbps(target.max_bytes, duration)
    return (
        f"a {length} video cannot fit {format_size(target.max_bytes)} above "
        f"{VIDEO_FLOOR_KBPS} kb/s (it would get at most {most} kb/s for picture and sound); "
        f"trim it to {_fitting_minutes(target)} or send it as a document"
    )


def _fitting_minutes(target: Target) -> str:
    seconds = target.max_bytes * 8 * SIZE_MARGIN / ((VIDEO_FLOOR_KBPS + VIDEO_AUDIO_KBPS[1]) * 1000)
    return f"{seconds / 60:.0f} minutes or less" if seconds >= 120 else f"{seconds:.0f} s or less"


def plan_audio(facts: MediaFacts, target: Target) -> Plan | Unconvertible:
    """Ogg/Opus mono 48 kHz (a voice note, or audio when Opus is configured), or
    AAC in M4A; the first audio stream only, copied when it already is the codec."""
    if not facts.audio:
        return Unconvertible("no_audio_stream", "the file has no audio stream to convert")
    audio = facts.audio[0]
    duration = facts.duration or 0.0
    opus = target.extension == ".ogg"
    options: list[str] = ["-map", "0:a:0", "-vn", "-sn", "-dn", "-map_metadata", "-1"]
    steps: list[str] = []
    if facts.video is not None:
        steps.append("kept the sound and left out the picture")
    if opus and audio.codec == "opus" and audio.channels == 1:
        options += ["-c:a", "copy"]
        steps.append("kept the mono Opus stream as it is")
        encodes = False
    elif not opus and audio.codec == "aac" and audio.channels <= 2:
        options += ["-c:a", "copy"]
        steps.append("kept the AAC stream as it is")
        encodes = False
    else:
        best, least = VOICE_KBPS if target.name == "voice" else MUSIC_KBPS
        limit = VOICE_PLAY_BYTES if target.name == "voice" else target.max_bytes
        kbps = min(best, fitting_kbps(limit, duration)) if duration > 0 else best
        if kbps < least and target.name != "voice":
            return Unconvertible(
                "cannot_fit",
                f"{duration / 60:.0f} minutes of audio cannot fit {format_size(limit)} above "
                f"{least} kb/s; split it into parts or send it as a document",
            )
        kbps = max(kbps, least)
        if opus:
            options += ["-c:a", "libopus", "-ac", "1", "-ar", "48000", "-b:a", f"{kbps}k"]
            if target.name == "voice":
                options += ["-application", "voip"]
            steps.append(
                f"re-encoded the audio from {_audio_words(audio)} to Opus, mono, "
                f"48 kHz, {kbps} kb/s"
            )
        else:
            channels = ["-ac", "2"] if audio.channels > 2 else []
            options += ["-c:a", "aac", *channels, "-b:a", f"{kbps}k"]
            steps.append(f"re-encoded the audio from {_audio_words(audio)} to AAC, {kbps} kb/s")
        encodes = True
        if target.name == "voice" and duration > 0:
            steps.append(_voice_note_size(duration, kbps))
    if not encodes:
        into = "Ogg" if opus else "M4A"
        steps.insert(0, f"moved the audio from {facts.label} into {into}")
    options += ["-f", "ogg" if opus else "ipod"]
    return Plan(target, tuple(options), tuple(steps), encodes=encodes)


def _voice_note_size(duration: float, kbps: int) -> str:
    """Said of the bitrate, not as a size: the plan is made before the encode,
    and Ogg's pages add a few KB that a short note's estimate would leave out."""
    length = f"{duration:.0f}-second" if duration < 120 else f"{duration / 60:.0f}-minute"
    if duration * kbps * 1000 / 8 <= VOICE_PLAY_BYTES:
        return f"{kbps} kb/s keeps a {length} note under 512 KB, so WhatsApp shows a play button"
    return (
        f"a {length} note is over 512 KB even at {kbps} kb/s, so WhatsApp shows it as a file "
        "to download, not a play button; shorter notes play inline"
    )


def _video_words(video: StreamFacts) -> str:
    words = video.codec.upper() if video.codec != "h264" else "H.264"
    if video.profile:
        words += f" {video.profile}"
    if video.b_frames:
        words += " with B-frames"
    if video.pixel_format and video.pixel_format != "yuv420p":
        words += f", {video.pixel_format}"
    return words


def _audio_words(audio: StreamFacts) -> str:
    channels = {1: "mono", 2: "stereo"}.get(audio.channels, f"{audio.channels} channels")
    return f"{audio.codec} ({channels})"
