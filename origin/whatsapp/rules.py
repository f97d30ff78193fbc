"""WhatsApp's media rules as data: the one table serving, checks and uploads read.

Values come from Meta's current "Media" page
(https://developers.facebook.com/documentation/business-messaging/whatsapp/business-phone-numbers/media#supported-media-types)
and the per-type message pages, read 2025-12 to 2026-06. Where sources disagree
the table follows Meta's current wording and says so:

* 3GPP is ``video/3gpp`` (Meta, and the upload endpoint's own error text);
  AWS and several BSPs write ``video/3gp``.
* Ogg must be Opus, and Meta's 131053 text names ``audio/ogg; codecs=opus``
  as the accepted label; plain ``audio/ogg`` is reported rejected.
* Sizes are written "5 MB", "16 MB" by Meta without saying whether a megabyte is
  10**6 or 2**20 bytes. We use 10**6: a file we accept is then accepted under
  either reading.
* The 512x512 sticker rule is from the legacy messages reference and Meta's Node
  SDK; the current sticker page lists only format and size.
"""

from __future__ import annotations

from dataclasses import dataclass

KB = 1000
MB = 1000 * KB


@dataclass(frozen=True, slots=True)
class MediaRule:
    """One file kind WhatsApp accepts by link."""

    whatsapp_type: str  # "audio" | "document" | "image" | "sticker" | "video"
    extensions: tuple[str, ...]  # lower case, with the dot
    content_type: str  # exactly what the origin sends as Content-Type
    max_bytes: int
    official: bool = True  # False: accepted in practice, not listed by Meta
    note: str = ""


RULES: tuple[MediaRule, ...] = (
    MediaRule("audio", (".aac",), "audio/aac", 16 * MB),
    MediaRule("audio", (".amr",), "audio/amr", 16 * MB),
    MediaRule("audio", (".mp3",), "audio/mpeg", 16 * MB),
    MediaRule("audio", (".m4a",), "audio/mp4", 16 * MB),
    MediaRule(
        "audio",
        (".ogg",),
        "audio/ogg; codecs=opus",
        16 * MB,
        note="Opus codec only, mono input only; voice notes must be Ogg/Opus, "
        "and only files up to 512 KB show a play icon",
    ),
    MediaRule(
        "audio",
        (".opus",),
        "audio/ogg; codecs=opus",
        16 * MB,
        official=False,
        note="Ogg/Opus under an extension Meta does not list; Meta refuses the "
        "label audio/opus, so it is served as audio/ogg; codecs=opus",
    ),
    MediaRule("document", (".txt",), "text/plain", 100 * MB),
    MediaRule("document", (".pdf",), "application/pdf", 100 * MB),
    MediaRule("document", (".doc",), "application/msword", 100 * MB),
    MediaRule(
        "document",
        (".docx",),
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        100 * MB,
    ),
    MediaRule("document", (".xls",), "application/vnd.ms-excel", 100 * MB),
    MediaRule(
        "document",
        (".xlsx",),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        100 * MB,
    ),
    MediaRule("document", (".ppt",), "application/vnd.ms-powerpoint", 100 * MB),
    MediaRule(
        "document",
        (".pptx",),
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        100 * MB,
    ),
    MediaRule(
        "image",
        (".jpg", ".jpeg"),
        "image/jpeg",
        5 * MB,
        note="8-bit, RGB or RGBA",
    ),
    MediaRule("image", (".png",), "image/png", 5 * MB, note="8-bit, RGB or RGBA"),
    MediaRule(
        "sticker",
        (".webp",),
        "image/webp",
        500 * KB,
        note="512x512 px; static stickers up to 100 KB, animated up to 500 KB; "
        "WebP is accepted only as a sticker, never as an image",
    ),
    MediaRule(
        "video",
        (".mp4",),
        "video/mp4",
        16 * MB,
        note="H.264 video and AAC audio only, at most one audio stream; "
        "Main or Baseline profile without B-frames; moov before mdat",
    ),
    MediaRule("video", (".3gp",), "video/3gpp", 16 * MB, note="as .mp4"),
)

STATIC_STICKER_MAX_BYTES = 100 * KB
STICKER_PIXELS = 512  # width and height

# "Maximum file size for media messages on Cloud API is 100 MB" (facts, section 1a).
LARGEST_MEDIA_BYTES = max(rule.max_bytes for rule in RULES)

RULE_BY_EXTENSION: dict[str, MediaRule] = {
    extension: rule for rule in RULES for extension in rule.extensions
}


def rule_for_name(name: str) -> MediaRule | None:
    """The WhatsApp rule a file name falls under, by its extension."""
    dot = name.rfind(".")
    if dot <= name.rfind("/"):
        return None
    return RULE_BY_EXTENSION.get(name[dot:].lower())


# What to run to make a file fit, quoted by the refusals so that each one says
# what to do and not only what is wrong. ``{src}`` is the file's own name and
# ``{stem}`` that name without its extension; ffmpeg writes to a new name (it
# cannot write over its input).
_SHRINK = {
    "image": "convert {src} -resize '2048x2048>' -quality 85 {stem}.jpg",
    "sticker": "cwebp -q 60 -resize 512 512 {src} -o {stem}.webp",
    "video": (
        "ffmpeg -i {src} -c:v libx264 -crf 28 -profile:v main -bf 0 -c:a aac -b:a 96k "
        "-movflags +faststart {stem}-whatsapp.mp4"
    ),
    "audio": "ffmpeg -i {src} -c:a libopus -b:a 32k -ac 1 {stem}-whatsapp.ogg",
}
_CONVERT = {
    "image": "convert {src} {stem}.jpg",
    "audio": "ffmpeg -i {src} -c:a libopus -ac 1 {stem}-whatsapp.ogg",
    "video": (
        "ffmpeg -i {src} -c:v libx264 -profile:v main -bf 0 -c:a aac -movflags +faststart "
        "{stem}-whatsapp.mp4"
    ),
}
# Extensions WhatsApp does not take, by the WhatsApp type they convert to.
_CONVERTIBLE = {
    **dict.fromkeys((".gif", ".bmp", ".heic", ".heif", ".tif", ".tiff", ".avif"), "image"),
    **dict.fromkeys((".wav", ".flac", ".wma", ".aif", ".aiff", ".oga", ".m4b", ".weba"), "audio"),
    **dict.fromkeys((".mov", ".webm", ".mkv", ".avi", ".m4v", ".wmv", ".mpg", ".mpeg"), "video"),
}


# What a conversion starts from, besides the types WhatsApp takes: pictures
# Pillow reads, and audio and video ffmpeg does (told apart by their streams).
CONVERTIBLE_EXTENSIONS = frozenset(
    {*_CONVERTIBLE, ".webp", ".mka", ".caf", ".3gpp", ".ts", ".mts", ".m2ts", ".wmv"}
)


def convertible_name(name: str) -> bool:
    """Whether a conversion can start from a file of this name."""
    dot = name.rfind(".")
    extension = name[dot:].lower() if dot > name.rfind("/") else ""
    return extension in CONVERTIBLE_EXTENSIONS or extension in RULE_BY_EXTENSION


def _names(name: str) -> dict[str, str]:
    base = name.rsplit("/", 1)[-1] or "file"
    dot = base.rfind(".")
    return {"src": base, "stem": base[:dot] if dot > 0 else base}


def shrink_hint(whatsapp_type: str | None, name: str) -> str:
    """How to bring a too-large file of this type under WhatsApp's limit."""
    command = _SHRINK.get(whatsapp_type or "")
    if command is None:
        return "compress or split it"
    return f"make it smaller, e.g. {command.format(**_names(name))}"


def convert_hint(name: str) -> str:
    """How to turn a file WhatsApp does not take into one it does."""
    dot = name.rfind(".")
    kind = _CONVERTIBLE.get(name[dot:].lower()) if dot > name.rfind("/") else None
    if kind is None:
        return "send it as a document: export it as PDF"
    names = _names(name)
    if names["src"].lower().endswith(".webm"):  # a browser's voice note as often as a video
        return (
            f"convert it to an H.264 MP4 if it is a video, to mono Ogg/Opus if it is a voice "
            f"note, e.g. {_CONVERT['audio'].format(**names)}; {_BY_MEDIA_ORIGIN}"
        )
    target = {"image": "a JPEG or PNG", "audio": "Ogg/Opus", "video": "an H.264 MP4"}[kind]
    return f"convert it to {target}, e.g. {_CONVERT[kind].format(**names)}; {_BY_MEDIA_ORIGIN}"


_BY_MEDIA_ORIGIN = "media-origin convert does it, as does an upload with ?convert=true"


def command_for(whatsapp_type: str, name: str) -> str:
    """The conversion command to the type's WhatsApp format, for ``name``."""
    return _CONVERT[whatsapp_type].format(**_names(name))
