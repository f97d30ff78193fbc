"""The picture recipes: format and mode by transparency, upright by EXIF, the
sticker canvas, the ladder's order, and an animation never flattened in silence."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from origin.whatsapp.picture_recipes import (
    PictureFacts,
    PicturePlan,
    attempts,
    plan_picture,
    sticker_box,
)
from origin.whatsapp.recipes import TARGETS, Unconvertible


def picture(fmt="JPEG", mode="RGB", frames=1, orientation=1, transparent=False):
    return PictureFacts(fmt, mode, 400, 300, frames, orientation, transparent, 1000)


@pytest.mark.parametrize(
    ("facts", "fmt", "mode", "words"),
    [
        (picture("JPEG", "CMYK"), "JPEG", "RGB", "from CMYK to 8-bit RGB"),
        (picture("PNG", "I;16"), "JPEG", "RGB", "from 16-bit grey"),
        (picture("PNG", "P", transparent=True), "PNG", "RGBA", "from a palette"),
        (picture("PNG", "LA", transparent=True), "PNG", "RGBA", "grey with alpha"),
        (picture("WEBP", "RGB"), "JPEG", "RGB", "instead of a WEBP"),
        (picture("HEIF", "RGB"), "JPEG", "RGB", "instead of a HEIF"),
        (picture(orientation=6), "JPEG", "RGB", "rotated 90° clockwise"),
    ],
)
def test_an_image_becomes_8_bit_rgb_jpeg_or_png_when_transparent(facts, fmt, mode, words):
    plan = plan_picture(facts, TARGETS["image"])
    assert isinstance(plan, PicturePlan) and (plan.format, plan.mode) == (fmt, mode)
    assert any(words in step for step in plan.steps), plan.steps
    assert plan.upright == (facts.orientation == 6)


def test_an_animation_is_not_flattened_into_an_image_but_becomes_an_animated_sticker():
    refusal = plan_picture(picture("GIF", "P", frames=5), TARGETS["image"])
    assert isinstance(refusal, Unconvertible) and "?as=sticker" in refusal.message
    sticker = plan_picture(picture("GIF", "P", frames=5), TARGETS["sticker"])
    assert sticker.animated and sticker.max_bytes == 500_000 and sticker.format == "WEBP"
    assert plan_picture(picture("PNG"), TARGETS["sticker"]).max_bytes == 100_000


def test_the_ladder_lowers_quality_before_it_scales_down():
    plan = plan_picture(picture(), TARGETS["image"])
    ladder = attempts(plan)
    assert [a.scale for a in ladder[:3]] == [1.0, 1.0, 1.0]
    assert [a.quality for a in ladder[:3]] == sorted((a.quality for a in ladder[:3]), reverse=True)
    scales = [a.scale for a in ladder]
    assert scales == sorted(scales, reverse=True) and scales[-1] < 0.2


@given(st.integers(1, 20000), st.integers(1, 20000))
def test_a_sticker_fits_its_square_with_its_proportions(width, height):
    fitted_width, fitted_height = sticker_box(width, height)
    assert max(fitted_width, fitted_height) == 512 and min(fitted_width, fitted_height) >= 1
    # the long side becomes 512, the short one its share of 512 (never less than a pixel)
    long, short = max(width, height), min(width, height)
    # never turned: the wider side stays the wider, or both round to 512 (1023x1024)
    assert (fitted_width - fitted_height) * (width - height) >= 0
    assert min(fitted_width, fitted_height) == max(1, round(short * 512 / long))
