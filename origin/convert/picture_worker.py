"""The child process that converts a picture with Pillow: ``python -m
origin.convert.picture_worker`` reads its task as JSON on stdin and answers JSON
on stdout. Decoding is where a hostile picture does harm (a decompression bomb,
a decoder bug), so it happens here, under the memory and CPU bounds the parent
set, and with Pillow's pixel limit turned into an error at our own bound.

The choices are ``origin.whatsapp.picture_recipes``'; this module only carries
them out: turn upright, bring to 8-bit RGB(A), fit a sticker's canvas, then
write each rung of the ladder until one fits the limit.
"""

from __future__ import annotations

import io
import json
import sys
import warnings
from pathlib import Path
from typing import Any

from origin.whatsapp.picture_recipes import (
    WIDE_MODES,
    PictureFacts,
    PicturePlan,
    attempt_step,
    attempts,
    plan_picture,
    scaled_size,
    sticker_box,
)
from origin.whatsapp.recipes import TARGETS, Unconvertible
from origin.whatsapp.rules import STICKER_PIXELS

EXIF_ORIENTATION = 0x0112


class Refusal(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


def main() -> int:
    task = json.loads(sys.stdin.read())
    try:
        answer = convert(
            Path(task["source"]), Path(task["output_stem"]), task["target"], int(task["max_pixels"])
        )
    except Refusal as refusal:
        answer = {"error": refusal.code, "message": refusal.message}
    except MemoryError:
        answer = {"error": "conversion_memory", "message": "MemoryError"}
    sys.stdout.write(json.dumps(answer))
    return 0


def convert(source: Path, output_stem: Path, target_name: str, max_pixels: int) -> dict[str, Any]:
    from PIL import Image

    _register_heif()
    image = _open(source, max_pixels)
    facts = _facts(image, source.stat().st_size)
    plan = plan_picture(facts, TARGETS[target_name])
    if isinstance(plan, Unconvertible):
        raise Refusal(plan.code, plan.message)
    frames, durations = _frames(image, plan)
    output = output_stem.with_suffix(plan.extension)
    for attempt in attempts(plan):
        data = _encode(frames, durations, plan, attempt.scale, attempt.quality)
        if len(data) <= plan.max_bytes:
            output.write_bytes(data)
            steps = [*plan.steps]
            if step := attempt_step(plan, attempt, facts, len(data)):
                steps.append(step)
            with Image.open(output) as written:
                made = _facts(written, len(data))
            return {
                "output": str(output),
                "from": facts.describe(None),
                "to": made.describe(plan.target.whatsapp_type),
                "steps": steps,
            }
    raise Refusal(
        "cannot_fit",
        f"even at the lowest quality and size tried the {plan.target.name} is over "
        f"{plan.max_bytes // 1000} KB; send a simpler picture",
    )


def _register_heif() -> None:
    try:
        from pillow_heif import register_heif_opener
    except ImportError:
        return
    register_heif_opener()


def _open(source: Path, max_pixels: int) -> Any:
    from PIL import Image, UnidentifiedImageError

    Image.MAX_IMAGE_PIXELS = max_pixels
    warnings.simplefilter("error", Image.DecompressionBombWarning)
    try:
        image = Image.open(source)
        width, height = image.size
        if width * height > max_pixels:
            raise Image.DecompressionBombError("over the limit")
        image.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise Refusal(
            "too_many_pixels",
            f"the picture claims more than {max_pixels / 1e6:g} megapixels ([convert] "
            "max_pixels): a decompression bomb, or a picture to scale down first",
        ) from None
    except UnidentifiedImageError:
        hint = (
            " (HEIC needs the pillow-heif package)"
            if source.suffix.lower() in (".heic", ".heif")
            else ""
        )
        raise Refusal("unreadable", f"the picture cannot be read{hint}; export it again") from None
    except (OSError, SyntaxError, ValueError) as error:
        raise Refusal(
            "unreadable", f"the picture cannot be decoded ({error}); it may be cut: export it again"
        ) from None
    return image


def _facts(image: Any, size: int) -> PictureFacts:
    orientation = image.getexif().get(EXIF_ORIENTATION, 1) if hasattr(image, "getexif") else 1
    return PictureFacts(
        format=image.format or "unknown",
        mode=image.mode,
        width=image.size[0],
        height=image.size[1],
        frames=getattr(image, "n_frames", 1),
        orientation=int(orientation) if isinstance(orientation, int) else 1,
        transparent=_transparent(image),
        size=size,
    )


def _transparent(image: Any) -> bool:
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        alpha = image.convert("RGBA").getchannel("A")
        return alpha.getextrema()[0] < 255
    return "transparency" in image.info


def _frames(image: Any, plan: PicturePlan) -> tuple[list[Any], list[int]]:
    from PIL import ImageOps, ImageSequence

    frames, durations = [], []
    for frame in ImageSequence.Iterator(image) if plan.animated else [image]:
        picture = ImageOps.exif_transpose(frame) if plan.upright else frame.copy()
        picture = _eight_bit(picture, plan.mode)
        if plan.format == "WEBP":
            picture = _on_sticker_canvas(picture)
        frames.append(picture)
        durations.append(int(frame.info.get("duration", 100) or 100))
    return frames, durations


def _eight_bit(picture: Any, mode: str) -> Any:
    if picture.mode in WIDE_MODES:
        # Scaled from 16 bits to 8, not clipped (convert("L") alone makes it white).
        picture = picture.convert("I").point(lambda value: value * (1 / 256)).convert("L")
    if mode == "RGBA" or picture.mode in ("RGBA", "LA", "PA", "P"):
        picture = picture.convert("RGBA")
    return picture.convert(mode)


def _on_sticker_canvas(picture: Any) -> Any:
    from PIL import Image

    width, height = sticker_box(*picture.size)
    fitted = picture.resize((width, height), Image.Resampling.LANCZOS)
    canvas = Image.new("RGBA", (STICKER_PIXELS, STICKER_PIXELS), (0, 0, 0, 0))
    canvas.paste(fitted, ((STICKER_PIXELS - width) // 2, (STICKER_PIXELS - height) // 2))
    return canvas


def _encode(
    frames: list[Any], durations: list[int], plan: PicturePlan, scale: float, quality: int | None
) -> bytes:
    from PIL import Image

    if scale < 1:
        size = scaled_size(*frames[0].size, scale)
        frames = [frame.resize(size, Image.Resampling.LANCZOS) for frame in frames]
    buffer = io.BytesIO()
    if plan.format == "JPEG":
        frames[0].save(buffer, "JPEG", quality=quality, optimize=True, progressive=True)
    elif plan.format == "PNG":
        frames[0].save(buffer, "PNG", optimize=True)
    elif len(frames) > 1:
        # Every frame a key frame: libwebp otherwise stores opaque sub-rectangles
        # and leaves the canvas's alpha flag unset, so the transparent margins of
        # the sticker would be drawn black.
        frames[0].save(
            buffer,
            "WEBP",
            quality=quality,
            method=4,
            save_all=True,
            append_images=frames[1:],
            duration=durations,
            loop=0,
            kmin=1,
            kmax=1,
        )
    else:
        frames[0].save(buffer, "WEBP", quality=quality, method=4)
    return buffer.getvalue()


if __name__ == "__main__":
    sys.exit(main())
