"""The checks of images and stickers, with Pillow: bound the pixels, decode the
whole picture, then hold what was read against WhatsApp's rules.

Images are decoded whole (a half-sent JPEG opens as well as a whole one: only
decoding finds the cut), so their pixel count is bounded first. Meta states no
pixel limit; 50 megapixels holds the largest photo a 5 MB image plausibly is (a
48 MP phone camera's), and a PNG or WebP that large takes about 200 MB to decode
(Pillow keeps 4 bytes a pixel; JPEG is decoded at 1/8 scale, a few MB).
Anything larger is a decompression bomb or needs scaling down; Pillow's own
limit (89 MP a warning, 179 MP an exception) is never reached.

Pillow is imported when a picture is first read, not with this module: the
server and the command start without it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from origin.whatsapp.image_headers import declared_dimensions, png_bit_depth, riff_declared_size
from origin.whatsapp.problems import (
    ERROR,
    WARNING,
    Problem,
    Report,
    base_name,
    extension_of,
    format_size,
    truncated,
)
from origin.whatsapp.rules import (
    STATIC_STICKER_MAX_BYTES,
    STICKER_PIXELS,
    MediaRule,
    command_for,
    shrink_hint,
)

MAX_IMAGE_PIXELS = 50_000_000
JPEG_DRAFT_SCALE = 8  # libjpeg decodes every coefficient, and writes 1 pixel in 64
EXIF_ORIENTATION = 0x0112
# Modes that are not 8-bit RGB(A) at all, which WhatsApp refuses; other modes
# (L, LA, P, RGBX...) it takes, with a warning for images.
REFUSED_MODES = frozenset({"CMYK", "YCbCr", "LAB", "I", "I;16", "F", "1"})


@dataclass(frozen=True)
class Picture:
    """What the rules look at, read while the image was open."""

    mode: str
    size: tuple[int, int]
    format: str | None
    frames: int
    orientation: int  # EXIF Orientation: 1 when absent


def inspect_image(file: Path, rule: MediaRule, report: Report) -> list[Problem]:
    """The pixel bound on the header's numbers, the whole decode, then the rules."""
    declared = declared_dimensions(file)
    if declared is not None and _pixels(declared) > MAX_IMAGE_PIXELS:
        return [_too_many_pixels(declared)]
    picture = _read_picture(file, report)
    if isinstance(picture, Problem):
        return [picture]
    depth = png_bit_depth(file) if picture.format == "PNG" else None
    problems = _mode_problems(picture.mode, depth, rule, report.path)
    problems += _rotation_problems(picture.orientation, report.path)
    if rule.whatsapp_type == "sticker":
        problems += _sticker(picture.size, picture.frames, report.size, rule.max_bytes, report.path)
    return problems


def _read_picture(file: Path, report: Report) -> Picture | Problem:
    """Open, bound the pixels Pillow finds, decode whole: the picture, or the one
    problem that stopped reading it.

    Pillow raises a dozen exception types on hostile bytes (OSError, SyntaxError,
    ValueError, struct.error, EOFError, DecompressionBombError, ...): every one is
    a Problem, never a crash of the check or a 500 of the upload.
    """
    from PIL import Image

    try:
        with Image.open(file) as image:
            if _pixels(image.size) > MAX_IMAGE_PIXELS:
                return _too_many_pixels(image.size)
            mode, size, fmt = image.mode, image.size, image.format
            frames = getattr(image, "n_frames", 1)
            decoded = _decode(image)
            if decoded is not None:  # getexif() would load a PNG again, to find eXIf
                return decoded
            orientation = image.getexif().get(EXIF_ORIENTATION, 1)
    except Image.DecompressionBombError as error:
        return _too_many_pixels(None, str(error))
    except Exception as error:  # see the docstring
        return _riff_cut(file, report.size) or _unreadable_image(error, report.path)
    return Picture(mode, size, fmt, frames, orientation)


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
    except Exception as error:  # see _read_picture
        if isinstance(error, EOFError) or "truncated" in str(error).lower():
            return truncated(f"the image data ends before the picture does (Pillow: {error})")
        return Problem(
            "undecodable",
            ERROR,
            f"the image data does not decode (Pillow: {error}): export or save it again",
        )
    return None


def _mode_problems(mode: str, depth: int | None, rule: MediaRule, path: str) -> list[Problem]:
    """8-bit RGB or RGBA is what WhatsApp asks for: other depths and colour models
    are refused; other 8-bit modes pass, with a warning for an image."""
    src = base_name(path)
    if mode in REFUSED_MODES or (depth and depth != 8):
        what = f"{depth}-bit" if depth and depth != 8 else mode
        return [
            Problem(
                "image_mode",
                ERROR,
                f"image is {what}; WhatsApp images must be 8-bit, RGB or RGBA: convert it, e.g. "
                f"convert {src} -colorspace sRGB -depth 8 {src}",
            )
        ]
    if mode not in ("RGB", "RGBA") and rule.whatsapp_type == "image":
        return [
            Problem(
                "image_mode",
                WARNING,
                f"image mode is {mode}; WhatsApp asks for 8-bit RGB or RGBA: convert it, e.g. "
                f"convert {src} -type TrueColorAlpha {src}",
            )
        ]
    return []


def _rotation_problems(orientation: int, path: str) -> list[Problem]:
    if orientation == 1:
        return []
    src = base_name(path)
    return [
        Problem(
            "exif_rotation",
            WARNING,
            f"EXIF Orientation is {orientation}: Meta's image processor applies it, so the "
            "picture may not show the way it looks here; rotate the pixels instead: "
            f"convert {src} -auto-orient {src}",
        )
    ]


def _sticker(
    dimensions: tuple[int, int], frames: int, size: int, animated_max: int, name: str = ""
) -> list[Problem]:
    """A WebP is a sticker by its name; one that is not 512x512 is most often a
    picture meant as an image, so both ways out are said. Its size limit depends
    on being animated, known only once it is open: hence checked here, not with
    the other types' sizes."""
    problems = []
    src, side = base_name(name) or "sticker.webp", f"{STICKER_PIXELS}x{STICKER_PIXELS}"
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


def _riff_cut(file: Path, size: int) -> Problem | None:
    """A WebP whose RIFF header counts more bytes than the file has."""
    declared = riff_declared_size(file)
    if declared is None or declared <= size:
        return None
    return truncated(f"the RIFF header says the file is {declared:,} bytes but it is {size:,}")


def _unreadable_image(error: Exception, name: str = "") -> Problem:
    return Problem(
        "unreadable",
        ERROR,
        f"Pillow cannot read this image: {error}; export or save it again as "
        f"{extension_of(name).lstrip('.').upper() or 'JPEG or PNG'}",
    )
