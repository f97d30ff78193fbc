"""Every WhatsApp rule, one passing and one failing file each, made for real."""

from functools import partial

import media_fixtures as fx
import pytest

from origin.inspection import format_size, inspect_file

needs_ffmpeg = pytest.mark.skipif(
    fx.FFMPEG is None, reason="ffmpeg not installed (.ci/run installs it)"
)


def make(build, *arguments, **options):
    """A builder taking only the path: ``build(path, *arguments, **options)``."""
    return lambda path: build(path, *arguments, **options)


# (served name, builder, expected verdict, expected problem codes)
CASES = [
    # images: 8-bit RGB/RGBA, size, EXIF rotation
    ("photo.jpg", partial(fx.image, fmt="JPEG"), "ok", set()),
    ("logo.png", partial(fx.image, mode="RGBA", fmt="PNG"), "ok", set()),
    ("cmyk.jpg", partial(fx.image, mode="CMYK", fmt="JPEG"), "reject", {"image_mode"}),
    ("deep.png", fx.png_16_bit, "reject", {"image_mode"}),
    ("grey.png", partial(fx.image, mode="L", fmt="PNG"), "warn", {"image_mode"}),
    ("rotated.jpg", fx.rotated_jpeg, "warn", {"exif_rotation"}),
    ("huge.png", partial(fx.noise_image, size=(1400, 1300), fmt="PNG"), "reject", {"too_large"}),
    # stickers: 512x512 WebP, static up to 100 KB, animated up to 500 KB
    ("hi.webp", partial(fx.image, mode="RGBA", size=(512, 512), fmt="WEBP"), "ok", set()),
    ("animated.webp", fx.animated_webp, "ok", set()),
    ("heavy-animated.webp", fx.heavy_animated_webp, "reject", {"too_large"}),
    (
        "small.webp",
        partial(fx.image, mode="RGBA", size=(256, 256), fmt="WEBP"),
        "reject",
        {"sticker_dimensions"},
    ),
    (
        "heavy.webp",
        partial(fx.noise_image, size=(512, 512), fmt="WEBP", lossless=True),
        "reject",
        {"too_large"},
    ),
    # the bytes against the name
    (
        "sticker-as.jpg",
        partial(fx.image, size=(512, 512), fmt="WEBP"),
        "reject",
        {"content_type_mismatch"},
    ),
    ("png-as.jpg", partial(fx.image, fmt="PNG"), "reject", {"content_type_mismatch"}),
    (
        "page.jpg",
        lambda p: p.write_text("<!DOCTYPE html><html></html>"),
        "reject",
        {"content_type_mismatch", "active_content"},
    ),
    ("anim.gif", partial(fx.image, fmt="GIF"), "reject", {"unsupported_type"}),
    (
        "drawing.svg",
        lambda p: p.write_text("<svg xmlns='http://www.w3.org/2000/svg'/>"),
        "reject",
        {"unsupported_type", "active_content"},
    ),
    # documents
    ("report.pdf", fx.pdf, "ok", set()),
    ("fake.pdf", lambda p: p.write_bytes(b"\x00\x01binary"), "reject", {"content_type_mismatch"}),
    ("letter.docx", partial(fx.office, folder="word"), "ok", set()),
    ("sheet-as.docx", partial(fx.office, folder="xl"), "reject", {"content_type_mismatch"}),
    (
        "old.doc",
        lambda p: p.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(512)),
        "ok",
        set(),
    ),
    ("notes.txt", lambda p: p.write_text("plain text, ünïcode\n"), "ok", set()),
    (
        "binary.txt",
        lambda p: p.write_bytes(b"\x00\xff\x00\xfe" * 10),
        "reject",
        {"content_type_mismatch"},
    ),
    # audio
    ("voice.amr", fx.amr, "ok", set()),
    ("voice-as.amr", fx.pdf, "reject", {"content_type_mismatch"}),
]

FFMPEG_CASES = [
    ("clip.mp4", make(fx.mp4, *fx.H264_MAIN, "-c:a", "aac"), "ok", set()),
    ("clip.3gp", make(fx.mp4, *fx.H264_MAIN, "-c:a", "aac", "-f", "3gp"), "ok", set()),
    (
        "high.mp4",
        make(
            fx.mp4,
            "-c:v",
            "libx264",
            "-profile:v",
            "high",
            "-bf",
            "2",
            "-pix_fmt",
            "yuv420p",
            "-c:a",
            "aac",
        ),
        "warn",
        {"h264_high_profile", "b_frames"},
    ),
    (
        "main-bframes.mp4",
        make(
            fx.mp4,
            "-c:v",
            "libx264",
            "-profile:v",
            "main",
            "-bf",
            "2",
            "-pix_fmt",
            "yuv420p",
            "-c:a",
            "aac",
        ),
        "warn",
        {"b_frames"},
    ),
    (
        "hevc.mp4",
        make(fx.mp4, "-c:v", "libx265", "-pix_fmt", "yuv420p", "-c:a", "aac"),
        "reject",
        {"video_codec"},
    ),
    (
        "late-moov.mp4",
        make(fx.mp4, *fx.H264_MAIN, "-c:a", "aac", faststart=False),
        "warn",
        {"moov_after_mdat"},
    ),
    (
        "two-audio.mp4",
        make(fx.mp4, *fx.H264_MAIN, "-c:a", "aac", audio=2),
        "reject",
        {"audio_tracks"},
    ),
    (
        "mp3-audio.mp4",
        make(fx.mp4, *fx.H264_MAIN, "-c:a", "libmp3lame"),
        "reject",
        {"audio_codec"},
    ),
    ("silent.mp4", make(fx.mp4, *fx.H264_MAIN, audio=0), "ok", set()),
    ("audio-only.mp4", make(fx.mp4, "-c:a", "aac", video=False), "reject", {"no_video_track"}),
    (
        "voice.ogg",
        make(fx.ffmpeg, *fx.AUDIO_IN, "-t", "1", "-c:a", "libopus", "-ac", "1"),
        "ok",
        set(),
    ),
    (
        "stereo.ogg",
        make(fx.ffmpeg, *fx.AUDIO_IN, "-t", "1", "-c:a", "libopus", "-ac", "2"),
        "reject",
        {"ogg_channels"},
    ),
    (
        "vorbis.ogg",
        make(fx.ffmpeg, *fx.AUDIO_IN, "-t", "1", "-c:a", "libvorbis"),
        "reject",
        {"ogg_not_opus"},
    ),
    (
        "voice.opus",
        make(fx.ffmpeg, *fx.AUDIO_IN, "-t", "1", "-c:a", "libopus", "-ac", "1", "-f", "ogg"),
        "warn",
        {"unofficial_type"},
    ),
    ("song.mp3", make(fx.ffmpeg, *fx.AUDIO_IN, "-t", "1", "-c:a", "libmp3lame"), "ok", set()),
    (
        "song.aac",
        make(fx.ffmpeg, *fx.AUDIO_IN, "-t", "1", "-c:a", "aac", "-f", "adts"),
        "ok",
        set(),
    ),
    ("track.m4a", make(fx.ffmpeg, *fx.AUDIO_IN, "-t", "1", "-c:a", "aac"), "ok", set()),
    (
        "opus.m4a",
        make(fx.ffmpeg, *fx.AUDIO_IN, "-t", "1", "-c:a", "libopus", "-f", "mp4"),
        "reject",
        {"audio_codec"},
    ),
    ("video-as.m4a", make(fx.mp4, *fx.H264_MAIN, "-c:a", "aac", "-f", "mp4"), "ok", set()),
    (
        "mp3-as.ogg",
        make(fx.ffmpeg, *fx.AUDIO_IN, "-t", "1", "-c:a", "libmp3lame", "-f", "mp3"),
        "reject",
        {"content_type_mismatch"},
    ),
]


def run_case(tmp_path, name, build, verdict, codes):
    file = tmp_path / name
    build(file)
    report = inspect_file(file)
    assert {p.code for p in report.problems} == codes, report.problems
    assert report.verdict == verdict
    return report


@pytest.mark.parametrize(("name", "build", "verdict", "codes"), CASES, ids=[c[0] for c in CASES])
def test_rule(tmp_path, name, build, verdict, codes):
    run_case(tmp_path, name, build, verdict, codes)


@needs_ffmpeg
@pytest.mark.parametrize(
    ("name", "build", "verdict", "codes"), FFMPEG_CASES, ids=[c[0] for c in FFMPEG_CASES]
)
def test_rule_on_encoded_media(tmp_path, name, build, verdict, codes):
    run_case(tmp_path, name, build, verdict, codes)


def test_messages_name_the_rule_and_the_numbers(tmp_path):
    file = tmp_path / "big.jpg"
    file.write_bytes(b"\xff\xd8\xff\xe0" + bytes(6_200_000))
    (problem,) = [p for p in inspect_file(file).problems if p.code == "too_large"]
    assert problem.message == "image is 6.2 MB; WhatsApp images are limited to 5 MB"


def test_a_static_sticker_over_100_kb_names_both_limits(tmp_path):
    file = tmp_path / "s.webp"
    fx.noise_image(file, (512, 512), "WEBP", lossless=True)
    (problem,) = [p for p in inspect_file(file).problems if p.code == "too_large"]
    assert problem.message.endswith("WhatsApp static stickers are limited to 100 KB")


def test_report_json_has_the_issue_fields(tmp_path):
    file = tmp_path / "a.png"
    fx.image(file, fmt="PNG")
    assert set(inspect_file(file, "/x/a.png").to_json()) == {
        "path",
        "whatsapp_type",
        "content_type",
        "size",
        "verdict",
        "problems",
    }


@pytest.mark.parametrize(
    ("size", "text"),
    [(999, "999 bytes"), (100_000, "100 KB"), (6_234_567, "6.2 MB"), (16_000_000, "16 MB")],
)
def test_format_size(size, text):
    assert format_size(size) == text
