"""Would Meta accept this file? The checks behind ``media-origin check``, run on
the bytes themselves against the rules of ``origin.whatsapp``.

Every problem names its rule and its numbers. A problem of level ``error`` means
Meta refuses the file (verdict ``reject``); ``warning`` means Meta takes it but
something is off (verdict ``warn``); ``info`` is said and changes nothing,
such as a check that could not be run.
"""

from __future__ import annotations

import mmap
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from origin.whatsapp.isobmff import Movie, NotISOBMFF, Track, Truncated, read_movie
from origin.whatsapp.media_types import content_type_for, is_script_capable, script_capable_name
from origin.whatsapp.rules import (
    RULES,
    STATIC_STICKER_MAX_BYTES,
    STICKER_PIXELS,
    MediaRule,
    command_for,
    convert_hint,
    rule_for_name,
    shrink_hint,
)
from origin.whatsapp.sniff import (
    ACTIVE,
    HEAD_BYTES,
    Markup,
    base_type,
    find_markup,
    same_kind,
    sniff,
)

ERROR, WARNING, INFO = "error", "warning", "info"
REFUSED_ALWAYS = "active content, refused by the upload API even with ?force=true"
H264_PROFILES = {66: "Baseline", 77: "Main", 88: "Extended", 100: "High", 110: "High 10"}

# Images are decoded whole (a half-sent JPEG opens as well as a whole one: only
# decoding finds the cut), so their pixel count is bounded first. Meta states no
# pixel limit; 50 megapixels holds the largest photo a 5 MB image plausibly is (a
# 48 MP phone camera's), and a PNG or WebP that large takes about 200 MB to decode
# (Pillow keeps 4 bytes a pixel; JPEG is decoded at 1/8 scale, a few MB).
# Anything larger is a decompression bomb or needs scaling down; Pillow's own
# limit (89 MP a warning, 179 MP an exception) is never reached.
MAX_IMAGE_PIXELS = 50_000_000
JPEG_DRAFT_SCALE = 8  # libjpeg decodes every coefficient, and writes 1 pixel in 64
MAX_FRAMES_WALKED = 1_000_000  # audio frames read for the truncation check, at most


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
    report.problems += _INSPECTORS.get(rule.whatsapp_type, _no_inspection)(file, rule, report)
    return report


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
    if rule is None:
        accepted = ", ".join(sorted({ext for r in RULES if r.official for ext in r.extensions}))
        problems.append(
            Problem(
                "unsupported_type",
                ERROR,
                f"{_extension(name) or 'a name without an extension'} ({content_type}) is not a "
                f"type WhatsApp accepts by link; accepted: {accepted}; {convert_hint(name)}",
            )
        )
        return problems
    if not rule.official:
        problems.append(
            Problem(
                "unofficial_type",
                WARNING,
                f"{_extension(name)} is not in WhatsApp's list of {rule.whatsapp_type} types: "
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


def _active_name_message(name: str, content_type: str) -> str:
    extension = _extension(name) or name
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


def check_size(rule: MediaRule, size: int, name: str = "") -> list[Problem]:
    """The measured size (bytes too, since limits are decimal MB), the limit and the fix."""
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


def _image(file: Path, rule: MediaRule, report: Report) -> list[Problem]:
    """Open, bound the pixels, decode whole, then the rules on what was read.

    Pillow raises a dozen exception types on hostile bytes (OSError, SyntaxError,
    ValueError, struct.error, EOFError, DecompressionBombError, ...): every one is
    a Problem, never a crash of the check or a 500 of the upload.
    """
    from PIL import Image

    declared = declared_dimensions(file)
    if declared is not None and _pixels(declared) > MAX_IMAGE_PIXELS:
        return [_too_many_pixels(declared)]
    try:
        with Image.open(file) as image:
            if _pixels(image.size) > MAX_IMAGE_PIXELS:
                return [_too_many_pixels(image.size)]
            mode, size, fmt = image.mode, image.size, image.format
            frames = getattr(image, "n_frames", 1)
            decoded = _decode(image)
            if decoded is not None:  # getexif() would load a PNG again, to find eXIf
                return [decoded]
            orientation = image.getexif().get(0x0112, 1)
    except Image.DecompressionBombError as error:
        return [_too_many_pixels(None, str(error))]
    except Exception as error:  # see the docstring
        return [_riff_cut(file, report.size) or _unreadable_image(error, report.path)]
    problems = []
    depth = _png_bit_depth(file) if fmt == "PNG" else None
    if mode in ("CMYK", "YCbCr", "LAB", "I", "I;16", "F", "1") or (depth and depth != 8):
        what = f"{depth}-bit" if depth and depth != 8 else mode
        src = report.path.rsplit("/", 1)[-1]
        problems.append(
            Problem(
                "image_mode",
                ERROR,
                f"image is {what}; WhatsApp images must be 8-bit, RGB or RGBA: convert it, e.g. "
                f"convert {src} -colorspace sRGB -depth 8 {src}",
            )
        )
    elif mode not in ("RGB", "RGBA") and rule.whatsapp_type == "image":
        problems.append(
            Problem(
                "image_mode",
                WARNING,
                f"image mode is {mode}; WhatsApp asks for 8-bit RGB or RGBA: convert it, e.g. "
                f"convert {_base(report.path)} -type TrueColorAlpha {_base(report.path)}",
            )
        )
    if orientation != 1:
        problems.append(
            Problem(
                "exif_rotation",
                WARNING,
                f"EXIF Orientation is {orientation}: Meta's image processor applies it, so the "
                "picture may not show the way it looks here; rotate the pixels instead: "
                f"convert {_base(report.path)} -auto-orient {_base(report.path)}",
            )
        )
    if rule.whatsapp_type == "sticker":
        problems += _sticker(size, frames, report.size, rule.max_bytes, report.path)
    return problems


def _pixels(dimensions: tuple[int, int]) -> int:
    return dimensions[0] * dimensions[1]


def _too_many_pixels(dimensions: tuple[int, int] | None, pillow: str = "") -> Problem:
    limit = f"the limit here is {MAX_IMAGE_PIXELS / 1e6:g} megapixels"
    if dimensions is None:
        measured = f"image is too large to decode ({pillow})"
    else:
        megapixels = _pixels(dimensions) / 1e6
        shown = f"{megapixels:,.1f}" if megapixels < 100 else f"{megapixels:,.0f}"
        measured = f"image is {dimensions[0]}x{dimensions[1]} px ({shown} megapixels)"
    return Problem(
        "too_many_pixels",
        ERROR,
        f"{measured}; {limit}: a decompression bomb, or a picture to scale down before sending "
        "(convert IN -resize '4096x4096>' OUT)",
    )


def _decode(image) -> Problem | None:
    """Decode every pixel: the only way to know that the data is all there.
    JPEG is decoded at 1/8 scale (libjpeg still reads every coefficient, so a cut
    is found); animated WebP's first frame, the whole file being checked against
    its RIFF size."""
    if image.format == "JPEG":
        width, height = image.size
        image.draft(None, (max(1, width // JPEG_DRAFT_SCALE), max(1, height // JPEG_DRAFT_SCALE)))
    try:
        image.load()
    except Exception as error:  # see _image
        if isinstance(error, EOFError) or "truncated" in str(error).lower():
            return _truncated(f"the image data ends before the picture does (Pillow: {error})")
        return Problem(
            "undecodable",
            ERROR,
            f"the image data does not decode (Pillow: {error}): export or save it again",
        )
    return None


def _unreadable_image(error: Exception, name: str = "") -> Problem:
    return Problem(
        "unreadable",
        ERROR,
        f"Pillow cannot read this image: {error}; export or save it again as "
        f"{_extension(name).lstrip('.').upper() or 'JPEG or PNG'}",
    )


def _base(path: str) -> str:
    return path.rsplit("/", 1)[-1]


def _riff_cut(file: Path, size: int) -> Problem | None:
    """A WebP whose RIFF header counts more bytes than the file has (libwebp then
    says only "could not create decoder object")."""
    with file.open("rb") as handle:
        header = handle.read(12)
    if len(header) < 12 or header[:4] != b"RIFF" or header[8:12] != b"WEBP":
        return None
    declared = int.from_bytes(header[4:8], "little") + 8
    if declared <= size:
        return None
    return _truncated(f"the RIFF header says the file is {declared:,} bytes but it is {size:,}")


def declared_dimensions(file: Path) -> tuple[int, int] | None:
    """Width and height as a PNG, JPEG or WebP header states them, read without
    Pillow, so that a decompression bomb is named with its numbers before any
    decoder allocates its canvas."""
    with file.open("rb") as handle:
        head = handle.read(HEAD_BYTES)
    if head[:8] == b"\x89PNG\r\n\x1a\n" and head[12:16] == b"IHDR" and len(head) >= 24:
        return int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return _webp_dimensions(head)
    if head[:3] == b"\xff\xd8\xff":
        return _jpeg_dimensions(head)
    return None


def _webp_dimensions(head: bytes) -> tuple[int, int] | None:
    chunk = head[12:16]
    if chunk == b"VP8X" and len(head) >= 30:
        return 1 + int.from_bytes(head[24:27], "little"), 1 + int.from_bytes(head[27:30], "little")
    if chunk == b"VP8L" and len(head) >= 25 and head[20] == 0x2F:
        bits = int.from_bytes(head[21:25], "little")
        return 1 + (bits & 0x3FFF), 1 + ((bits >> 14) & 0x3FFF)
    if chunk == b"VP8 " and len(head) >= 30 and head[23:26] == b"\x9d\x01\x2a":
        return (
            int.from_bytes(head[26:28], "little") & 0x3FFF,
            int.from_bytes(head[28:30], "little") & 0x3FFF,
        )
    return None


_JPEG_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}  # DHT, JPG and DAC are not frames
_JPEG_STANDALONE = frozenset({0x01, *range(0xD0, 0xD9)})  # TEM, RSTn, SOI: no length


def _jpeg_dimensions(head: bytes) -> tuple[int, int] | None:
    """From the first SOFn segment, walking the segments before it."""
    position = 2
    while position + 9 <= len(head):
        if head[position] != 0xFF:
            return None
        marker = head[position + 1]
        if marker == 0xFF:  # fill byte
            position += 1
        elif marker in _JPEG_STANDALONE:
            position += 2
        elif marker in _JPEG_SOF:
            height = int.from_bytes(head[position + 5 : position + 7], "big")
            return int.from_bytes(head[position + 7 : position + 9], "big"), height
        else:
            position += 2 + int.from_bytes(head[position + 2 : position + 4], "big")
    return None


def _sticker(
    dimensions: tuple[int, int], frames: int, size: int, animated_max: int, name: str = ""
) -> list[Problem]:
    """A WebP is a sticker by its name; one that is not 512x512 is most often a
    picture meant as an image, so both ways out are said."""
    problems = []
    src, side = _base(name) or "sticker.webp", f"{STICKER_PIXELS}x{STICKER_PIXELS}"
    if dimensions != (STICKER_PIXELS, STICKER_PIXELS):
        problems.append(
            Problem(
                "sticker_dimensions",
                ERROR,
                f"WebP is only for stickers, and this sticker is {dimensions[0]}x{dimensions[1]} "
                f"px where WhatsApp stickers must be {side}: to send it as an image, send it "
                f"as a JPEG or PNG ({command_for('image', src)}); as a sticker, resize it "
                f"(convert {src} -resize {side} -background none -gravity center "
                f"-extent {side} {src})",
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
                f"{kind} sticker is {format_size(size)} ({size:,} bytes); WhatsApp {kind} "
                f"stickers are limited to {format_size(limit)}: "
                f"{shrink_hint('sticker', src)}",
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
        problems.append(
            Problem(
                "no_video_track",
                ERROR,
                "the file has no video track: send sound alone as audio (.m4a, or Ogg/Opus)",
            )
        )
    for track in videos:
        if track.codec not in ("avc1", "avc3"):
            problems.append(
                Problem(
                    "video_codec",
                    ERROR,
                    f"video codec is {track.codec}; WhatsApp plays only H.264 video: "
                    f"re-encode it, e.g. {command_for('video', report.path)}",
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
                    "with B-frames: use Main without B-frames, or Baseline: "
                    f"{command_for('video', report.path)}",
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
    problems += _audio_tracks(audios, allow_none=True, name=report.path)
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


def _audio_tracks(audios: list[Track], allow_none: bool, name: str = "") -> list[Problem]:
    problems = []
    src = _base(name) or "IN"
    if len(audios) > 1:
        problems.append(
            Problem(
                "audio_tracks",
                ERROR,
                f"{len(audios)} audio tracks; WhatsApp takes one audio stream or none: keep "
                f"one, e.g. ffmpeg -i {src} -map 0:v? -map 0:a:0 -c copy one-audio-{src}",
            )
        )
    if not audios and not allow_none:
        problems.append(
            Problem(
                "no_audio_track",
                ERROR,
                "the file has no audio track: an audio file needs sound; send a silent video "
                "as .mp4",
            )
        )
    for track in audios:
        if track.codec != "mp4a" or track.audio_object_type not in (0x40, 0x66, 0x67, 0x68):
            codec = track.codec if track.codec != "mp4a" else f"mp4a/{track.audio_object_type}"
            problems.append(
                Problem(
                    "audio_codec",
                    ERROR,
                    f"audio codec is {codec}; WhatsApp takes only AAC: re-encode the sound, "
                    f"e.g. ffmpeg -i {src} -c:v copy -c:a aac aac-{src}",
                )
            )
    return problems


def _movie(file: Path) -> tuple[Movie, None] | tuple[None, Problem]:
    """The movie, or the one problem that stops it being read: cut, or unreadable."""
    try:
        with file.open("rb") as handle:
            movie = read_movie(handle)
    except Truncated as cut:
        return None, _truncated(str(cut))
    except NotISOBMFF as error:
        return None, Problem(
            "unreadable",
            ERROR,
            f"not a readable MP4/3GP file: {error}; export it again as MP4 (H.264 and AAC)",
        )
    if "mdat" in movie.top_level and "moov" not in movie.top_level:
        return None, _truncated(
            "the file has media data (mdat) but no moov box, which a writer puts last unless "
            "told -movflags +faststart"
        )
    for track in movie.tracks:
        if track.data_end is not None and track.data_end > movie.size:
            return None, _truncated(
                f"the samples of its {track.handler} track run to byte {track.data_end:,} but "
                f"the file ends at byte {movie.size:,}"
            )
    return movie, None


def _truncated(what: str, level: str = ERROR) -> Problem:
    return Problem(
        "truncated",
        level,
        f"{what}: the file was cut, most often mid-upload; send the whole file again",
    )


def _audio(file: Path, rule: MediaRule, report: Report) -> list[Problem]:
    extension = _extension(report.path)
    if extension == ".m4a":
        movie, problem = _movie(file)
        if movie is None:
            return [problem]
        return _audio_tracks(movie.handlers("soun"), False, report.path)
    if extension in (".ogg", ".opus"):
        return _ogg(file, report.path)
    if extension in (".mp3", ".aac"):
        return _frames_cut(file, extension) or _mutagen_readable(file, extension)
    return _frames_cut(file, extension)  # .amr: its signature, and its frames


def _ogg(file: Path, name: str = "") -> list[Problem]:
    """The pages first (a cut one is the whole story), then mutagen on the codec.

    mutagen raises its own errors and, on hostile bytes, also struct.error,
    IndexError, ValueError...: any of them means the file is unreadable.
    """
    import mutagen
    from mutagen.oggopus import OggOpus

    cut = _mapped(file, _ogg_cut)
    if cut is not None and cut.level == ERROR:
        return [cut]
    ended = [cut] if cut is not None else []
    src = _base(name) or "voice.ogg"
    try:
        audio = mutagen.File(file)
    except Exception as error:  # see the docstring
        return [
            Problem(
                "unreadable",
                ERROR,
                f"mutagen cannot read this Ogg file: {error}; export it again as Ogg/Opus",
            )
        ]
    if not isinstance(audio, OggOpus):
        codec = type(audio).__name__.removeprefix("Ogg") if audio is not None else "unknown"
        return [
            Problem(
                "ogg_not_opus",
                ERROR,
                f"Ogg audio is {codec}; WhatsApp takes only Opus in Ogg: re-encode it, e.g. "
                f"ffmpeg -i {src} -c:a libopus -ac 1 opus-{src}",
            )
        ]
    if audio.info.channels != 1:
        return [
            Problem(
                "ogg_channels",
                ERROR,
                f"Opus audio has {audio.info.channels} channels; WhatsApp takes mono input only: "
                f"ffmpeg -i {src} -c:a libopus -ac 1 mono-{src}",
            ),
            *ended,
        ]
    return ended


def _mutagen_readable(file: Path, extension: str) -> list[Problem]:
    from mutagen.aac import AAC
    from mutagen.mp3 import MP3

    reader = MP3 if extension == ".mp3" else AAC
    try:
        reader(file)
    except Exception as error:  # MutagenError, and on hostile bytes struct.error, ...
        kind = extension[1:].upper()
        return [
            Problem(
                "unreadable", ERROR, f"no valid {kind} stream: {error}; export it again as {kind}"
            )
        ]
    return []


# Truncation of audio, read from the container's own framing: every Ogg page and
# every MP3, ADTS and AMR frame says how long it is, so a file cut mid-way ends
# in a page or frame that runs past its end. Only that is judged: bytes that are
# not a page or frame (tags, junk, another format) end the walk with no verdict,
# so a valid file is never called cut.

OGG_PAGE_HEADER = 27  # bytes before the segment table
OGG_END_OF_STREAM = 0x04  # header_type flag of a stream's last page


def _mapped(file: Path, walk: Callable[[mmap.mmap], Problem | None]) -> Problem | None:
    """``walk`` over the file's bytes, mapped rather than read: no copy, any size."""
    with file.open("rb") as handle:
        if file.stat().st_size == 0:
            return None
        with mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
            return walk(data)


def _ogg_cut(data: mmap.mmap) -> Problem | None:
    size = len(data)
    position, pages, flags = 0, 0, None
    while position < size and pages < MAX_FRAMES_WALKED:
        capture = data[position : position + 4]
        if capture != b"OggS":
            if len(capture) < 4 and b"OggS".startswith(capture):
                return _truncated(f"the Ogg page at byte {position:,} is cut in its header")
            return None
        table = position + OGG_PAGE_HEADER  # the header's last byte counts the segments
        if table > size or table + data[table - 1] > size:
            return _truncated(f"the Ogg page at byte {position:,} is cut in its header")
        end = table + data[table - 1]
        end += sum(data[table:end])  # each segment's length
        if end > size:
            return _truncated(
                f"the Ogg page at byte {position:,} runs to byte {end:,} but the file ends at "
                f"byte {size:,}"
            )
        flags = data[position + 5]
        position, pages = end, pages + 1
    if position == size and flags is not None and not flags & OGG_END_OF_STREAM:
        return Problem(
            "truncated",
            WARNING,
            "the last Ogg page does not end the stream (no end-of-stream flag): the file may "
            "have been cut at a page boundary; if it plays short, send the whole file again",
        )
    return None


XING_FRAMES, XING_BYTES = 0x01, 0x02  # which counts a Xing/Info header holds
SYNC_BYTE = 0xFF  # the first byte of every MP3 and ADTS frame header
FrameReader = Callable[[mmap.mmap, int], tuple[int, object] | None]
"""(frame length in bytes, what every frame of the stream shares) of the frame
at an offset, or None when no frame starts there."""

# kbit/s by bitrate index 1 to 14, for layer III: MPEG-1, and MPEG-2 and 2.5.
_MP3_KBITS = {
    True: (32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
    False: (8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
}
# Hz by sample-rate index, by version bits (3: MPEG-1, 2: MPEG-2, 0: MPEG-2.5; 1 is reserved).
_MP3_RATES = {3: (44100, 48000, 32000), 2: (22050, 24000, 16000), 0: (11025, 12000, 8000)}
# Frame bytes, header included, by frame type, as ffmpeg's AMR demuxer reads them.
_AMR_FRAME_BYTES = {
    ".amr": (13, 14, 16, 18, 20, 21, 27, 32, 6, 1, 1, 1, 1, 1, 1, 1),
    "wide": (18, 24, 33, 37, 41, 47, 51, 59, 61, 6, 1, 1, 1, 1, 1, 1),
}


def _mp3_frame(data: mmap.mmap, position: int) -> tuple[int, object] | None:
    header = data[position : position + 4]
    if len(header) < 4 or header[0] != 0xFF or header[1] & 0xE0 != 0xE0:
        return None
    version, layer = (header[1] >> 3) & 3, (header[1] >> 1) & 3
    bitrate, rate = header[2] >> 4, (header[2] >> 2) & 3
    if version == 1 or layer != 1 or bitrate in (0, 15) or rate == 3:
        return None  # reserved, not layer III, free format or invalid
    kbits = _MP3_KBITS[version == 3][bitrate - 1]
    samples_per_byte = 144 if version == 3 else 72
    length = samples_per_byte * kbits * 1000 // _MP3_RATES[version][rate] + (header[2] >> 1 & 1)
    return length, (version, rate)


def _adts_frame(data: mmap.mmap, position: int) -> tuple[int, object] | None:
    header = data[position : position + 7]
    if len(header) < 7 or header[0] != 0xFF or header[1] & 0xF6 != 0xF0:
        return None  # 12 sync bits, layer 00
    length = ((header[3] & 0x03) << 11) | (header[4] << 3) | (header[5] >> 5)
    return (length, (header[1] & 0x08, header[2] >> 2)) if length >= 7 else None


def _amr_frame(table: tuple[int, ...]) -> FrameReader:
    def frame(data: mmap.mmap, position: int) -> tuple[int, object] | None:
        header = data[position]
        if header & 0x83:  # padding bits, zero in the storage format
            return None
        return table[(header >> 3) & 0x0F], None

    return frame


def _frames_cut(file: Path, extension: str) -> list[Problem]:
    """Walk MP3, ADTS or AMR frames from the first (after ID3v2 tags, or the AMR
    magic) to the end; a last frame running past it means the file was cut."""

    def walk(data: mmap.mmap) -> Problem | None:
        if extension == ".amr":
            wide = data[:9] == b"#!AMR-WB\n"
            start = 9 if wide else 6
            reader = _amr_frame(_AMR_FRAME_BYTES["wide" if wide else ".amr"])
            return _cut_frame(data, start, reader, "AMR", header=1)
        if extension == ".mp3":
            start = _after_id3(data)
            declared = _xing_bytes(data, start)
            ends = start + declared if declared is not None else None
            return _cut_frame(data, start, _mp3_frame, "MP3", header=4, declared_end=ends)
        return _cut_frame(data, _after_id3(data), _adts_frame, "AAC", header=7)

    cut = _mapped(file, walk)
    return [cut] if cut is not None else []


def _after_id3(data: mmap.mmap) -> int:
    """Where the audio starts: after any ID3v2 tags (10-byte header, a syncsafe
    size, and a 10-byte footer when flagged)."""
    position = 0
    while data[position : position + 3] == b"ID3" and position + 10 <= len(data):
        size = 0
        for byte in data[position + 6 : position + 10]:
            size = size << 7 | byte & 0x7F
        position += 10 + size + (10 if data[position + 5] & 0x10 else 0)
    return position


def _xing_bytes(data: mmap.mmap, start: int) -> int | None:
    """The byte count of an MP3's Xing or Info header (LAME's and ffmpeg's first
    frame: the stream's length, that frame included), when it has one."""
    header = data[start : start + 4]
    if len(header) < 4:
        return None
    mpeg1, mono = (header[1] >> 3) & 3 == 3, header[3] >> 6 == 3
    side_info = (17 if mono else 32) if mpeg1 else (9 if mono else 17)
    tag = start + 4 + side_info + (0 if header[1] & 1 else 2)  # 2 bytes of CRC when protected
    if data[tag : tag + 4] not in (b"Xing", b"Info"):
        return None
    flags = int.from_bytes(data[tag + 4 : tag + 8], "big")
    if not flags & XING_BYTES:
        return None
    offset = tag + 8 + (4 if flags & XING_FRAMES else 0)
    return int.from_bytes(data[offset : offset + 4], "big") or None


def _cut_frame(
    data: mmap.mmap,
    start: int,
    reader: FrameReader,
    kind: str,
    header: int,
    declared_end: int | None = None,
) -> Problem | None:
    """A cut last frame, or None. ``header`` is its header's length: fewer bytes
    left than that, starting with a sync byte, is a header cut. ``declared_end``
    is where the stream says it ends: frames that stop cleanly short of it were
    cut at a frame boundary."""
    size = len(data)
    position, frames, stream = start, 0, None
    while position < size and frames < MAX_FRAMES_WALKED:
        if size - position < header and frames and data[position] == SYNC_BYTE:
            return _truncated(f"the {kind} frame at byte {position:,} is cut in its header")
        frame = reader(data, position)
        if frame is None or (stream is not None and frame[1] != stream):
            return None  # not a frame of this stream: not this check's to judge
        length, stream = frame
        if position + length > size:
            return _truncated(
                f"the {kind} frame at byte {position:,} runs to byte {position + length:,} but "
                f"the file ends at byte {size:,}"
            )
        position, frames = position + length, frames + 1
    if position == size and declared_end is not None and size < declared_end:
        return _truncated(
            f"the {kind} header counts {declared_end - start:,} bytes of audio but the file "
            f"holds {size - start:,}"
        )
    return None


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
