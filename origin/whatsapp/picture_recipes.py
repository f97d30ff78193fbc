"""The recipes of pictures, images and stickers, as pure decisions over what
Pillow read (``PictureFacts``): the format and mode to write, whether to turn the
picture upright, and the ladder of (scale, quality) attempts that brings it under
its size limit with as little lost as possible. Pillow runs them in a child
process (``origin.convert.picture_worker``); only the choices are here.
"""

from __future__ import annotations

from dataclasses import dataclass

from origin.whatsapp.problems import format_size
from origin.whatsapp.recipes import TARGETS, Target, Unconvertible
from origin.whatsapp.rules import STATIC_STICKER_MAX_BYTES, STICKER_PIXELS

# Modes Pillow converts to 8-bit RGB(A) by ``convert`` alone; 16-bit and 32-bit
# integer greys are scaled first (``convert`` would clip them to white).
WIDE_MODES = frozenset({"I", "I;16", "I;16B", "I;16L", "I;16N", "F"})
JPEG_QUALITIES = (92, 85, 78)  # tried at full size before any scaling down
SCALED_QUALITY = 85
SCALE_STEP = 0.85  # each further attempt keeps this share of the width and height
MAX_SCALE_STEPS = 12  # 0.85**12 is 14 % of each side: beyond, the picture is lost anyway
WEBP_QUALITIES = (90, 80, 70, 60, 50, 40, 30, 20)
ORIENTATION_WORDS = {
    2: "mirrored",
    3: "rotated 180°",
    4: "flipped",
    5: "mirrored and rotated 90°",
    6: "rotated 90° clockwise",
    7: "mirrored and rotated 90° anticlockwise",
    8: "rotated 90° anticlockwise",
}


@dataclass(frozen=True, slots=True)
class PictureFacts:
    format: str  # Pillow's name: JPEG, PNG, WEBP, GIF, HEIF, TIFF, BMP, ...
    mode: str
    width: int
    height: int
    frames: int
    orientation: int  # EXIF Orientation, 1 when absent
    transparent: bool  # some pixel is not fully opaque
    size: int  # bytes

    def describe(self, whatsapp_type: str | None) -> dict[str, object]:
        """The JSON of a conversion's "from" or "to"."""
        return {
            "type": whatsapp_type,
            "format": self.format,
            "mode": self.mode,
            "width": self.width,
            "height": self.height,
            "frames": self.frames,
            "size": self.size,
        }


@dataclass(frozen=True, slots=True)
class PicturePlan:
    target: Target
    format: str  # JPEG, PNG or WEBP
    mode: str  # RGB or RGBA
    extension: str
    upright: bool  # apply the EXIF orientation (and drop the tag)
    animated: bool
    max_bytes: int
    steps: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Attempt:
    scale: float  # of each side
    quality: int | None  # None: a lossless format (PNG), only the size changes


def plan_picture(facts: PictureFacts, target: Target) -> PicturePlan | Unconvertible:
    """An image as JPEG (PNG when transparent), a sticker as 512x512 WebP."""
    if target.name not in ("image", "sticker"):
        return Unconvertible(
            "wrong_target", f"a picture cannot become {target.name}; ask for ?as=image or sticker"
        )
    animated = facts.frames > 1
    steps: list[str] = []
    upright = facts.orientation not in (0, 1)
    if upright:
        turned = ORIENTATION_WORDS.get(facts.orientation, "turned")
        steps.append(
            f"turned the picture upright ({turned}, as its EXIF tag said) and dropped the tag"
        )
    if target.name == "sticker":
        steps.append(
            f"fitted the picture into a transparent {STICKER_PIXELS}x{STICKER_PIXELS} canvas"
        )
        limit = target.max_bytes if animated else STATIC_STICKER_MAX_BYTES
        kind = f"an animated WebP of {facts.frames} frames" if animated else "a WebP"
        steps.append(f"wrote {kind} (a sticker must be at most {format_size(limit)})")
        return PicturePlan(target, "WEBP", "RGBA", ".webp", upright, animated, limit, tuple(steps))
    if animated:
        return Unconvertible(
            "animated_image",
            f"the picture is animated ({facts.frames} frames) and WhatsApp shows an image "
            "still: send it as a sticker (?as=sticker) or a video, or export one frame",
        )
    mode = "RGBA" if facts.transparent else "RGB"
    if _mode_words(facts.mode) != mode:
        steps.append(f"converted the colours from {_mode_words(facts.mode)} to 8-bit {mode}")
    fmt = "PNG" if facts.transparent else "JPEG"
    if facts.format != fmt:
        why = " (it has transparency)" if facts.transparent else ""
        steps.append(f"wrote a {fmt}{why} instead of a {facts.format}")
    extension = ".png" if fmt == "PNG" else ".jpg"
    return PicturePlan(target, fmt, mode, extension, upright, False, target.max_bytes, tuple(steps))


def _mode_words(mode: str) -> str:
    if mode in WIDE_MODES:
        return "16-bit grey" if mode.startswith("I;16") else f"{mode} (32-bit)"
    return {"P": "a palette", "L": "8-bit grey", "LA": "grey with alpha"}.get(mode, mode)


def attempts(plan: PicturePlan) -> tuple[Attempt, ...]:
    """The ladder, best first: the worker writes each until one fits the limit."""
    if plan.format == "WEBP":
        return tuple(Attempt(1.0, quality) for quality in WEBP_QUALITIES)
    if plan.format == "JPEG":
        full = [Attempt(1.0, quality) for quality in JPEG_QUALITIES]
        quality: int | None = SCALED_QUALITY
    else:
        full, quality = [Attempt(1.0, None)], None
    scaled = [Attempt(SCALE_STEP**step, quality) for step in range(1, MAX_SCALE_STEPS + 1)]
    return (*full, *scaled)


def attempt_step(plan: PicturePlan, attempt: Attempt, facts: PictureFacts, size: int) -> str:
    """In words, what the attempt that fitted changed (or "" when nothing did)."""
    parts = []
    if attempt.scale < 1:
        width, height = scaled_size(facts.width, facts.height, attempt.scale)
        parts.append(f"scaled it down to {width}x{height}")
    if attempt.quality is not None and (plan.format != "JPEG" or attempt.quality != 92):
        parts.append(f"compressed it at quality {attempt.quality}")
    if not parts and size >= facts.size:
        return ""
    return (
        f"{' and '.join(parts) or 'compressed it'}: {format_size(size)}, under the limit of "
        f"{format_size(plan.max_bytes)}"
    )


def scaled_size(width: int, height: int, scale: float) -> tuple[int, int]:
    return max(1, round(width * scale)), max(1, round(height * scale))


def sticker_box(width: int, height: int) -> tuple[int, int]:
    """The size of a picture fitted into the sticker square, its proportions kept."""
    side = STICKER_PIXELS
    if width >= height:
        return side, max(1, round(height * side / width))
    return max(1, round(width * side / height)), side


DEFAULT_IMAGE_TARGET = TARGETS["image"]
