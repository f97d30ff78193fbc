"""Every WhatsApp rule, one passing and one failing file each, made for real."""

import functools
import tempfile
import zlib
from functools import partial
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL.PngImagePlugin import PngInfo

from origin.whatsapp.images import MAX_IMAGE_PIXELS
from origin.whatsapp.inspection import inspect_file
from origin.whatsapp.media_types import content_type_for
from origin.whatsapp.problems import ERROR, INFO, WARNING, format_size
from tests.helpers import media as fx

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


# Words a message uses when it says what to do, not only what is wrong.
FIXES = ("convert ", "ffmpeg ", "cwebp ", "send ", "rename ", "export ", "re-encode", "encode with")


@pytest.mark.parametrize(
    ("name", "build", "verdict", "codes"),
    [pytest.param(*c, id=c[0]) for c in CASES if c[2] != "ok"]
    + [pytest.param(*c, id=c[0], marks=needs_ffmpeg) for c in FFMPEG_CASES if c[2] != "ok"],
)
def test_every_error_and_warning_names_the_fix(tmp_path, name, build, verdict, codes):
    file = tmp_path / name
    build(file)
    for problem in inspect_file(file).problems:
        if problem.level in (ERROR, WARNING):
            assert any(fix in problem.message for fix in FIXES), problem


def test_a_webp_sent_as_an_image_says_webp_is_for_stickers(tmp_path):
    """A 300x300 WebP is a picture meant as an image: say how to send it as one."""
    file = tmp_path / "photo.webp"
    fx.image(file, mode="RGBA", size=(300, 300), fmt="WEBP")
    (problem,) = inspect_file(file).problems
    assert problem.code == "sticker_dimensions"
    assert problem.message.startswith("WebP is only for stickers")
    assert "300x300 px" in problem.message and "send it as a JPEG or PNG" in problem.message
    assert "convert photo.webp photo.jpg" in problem.message
    renamed = tmp_path / "photo.jpg"
    renamed.write_bytes(file.read_bytes())
    (problem,) = inspect_file(renamed).problems
    assert problem.code == "content_type_mismatch"
    assert "WebP is only for stickers; send it as a JPEG or PNG" in problem.message


def test_messages_name_the_rule_and_the_numbers(tmp_path):
    file = tmp_path / "big.jpg"
    file.write_bytes(b"\xff\xd8\xff\xe0" + bytes(6_200_000))
    (problem,) = [p for p in inspect_file(file).problems if p.code == "too_large"]
    assert problem.message.startswith(
        "image is 6.2 MB (6,200,004 bytes); WhatsApp images are limited to 5 MB: make it "
        "smaller, e.g. convert big.jpg -resize"
    )


def test_a_static_sticker_over_100_kb_names_both_limits(tmp_path):
    file = tmp_path / "s.webp"
    fx.noise_image(file, (512, 512), "WEBP", lossless=True)
    (problem,) = [p for p in inspect_file(file).problems if p.code == "too_large"]
    assert "WhatsApp static stickers are limited to 100 KB: make it smaller" in problem.message
    assert "cwebp -q 60 -resize 512 512 s.webp -o s.webp" in problem.message


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


# Active content: refused by the name it is served under, and by its bytes.

PAGE = (
    b"<!--" + b" " * 600 + b"-->\n<html><body><script>alert(document.domain)</script></body></html>"
)
SVG_LATE = (
    b"<!-- " + b"x" * 1100 + b" -->\n<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>"
)

ACTIVE_CASES = [
    ("app.js", b"alert(document.cookie)", {"unsupported_type", "active_content"}),
    ("module.mjs", b"export default 1", {"unsupported_type", "active_content"}),
    ("page.html", PAGE, {"unsupported_type", "active_content"}),
    ("PAGE.HTML", PAGE, {"unsupported_type", "active_content"}),
    ("late.svg", SVG_LATE, {"unsupported_type", "active_content"}),
    ("feed.xml", b"<rss><channel/></rss>", {"unsupported_type", "active_content"}),
    ("style.xsl", b"<xsl:stylesheet version='1.0'/>", {"unsupported_type", "active_content"}),
    ("theme.css", b"body { color: red }", {"unsupported_type", "active_content"}),
    ("page.txt", PAGE, {"active_content", "content_type_mismatch"}),
    ("utf16.txt", PAGE.decode().encode("utf-16"), {"active_content", "content_type_mismatch"}),
    ("img.txt", b"Hi <img src=x onerror=alert(1)>", {"active_content", "content_type_mismatch"}),
    ("late-svg.txt", SVG_LATE, {"active_content", "content_type_mismatch"}),
    ("page.jpg", PAGE, {"active_content", "content_type_mismatch"}),
]


@pytest.mark.parametrize(
    ("name", "content", "codes"), ACTIVE_CASES, ids=[c[0] for c in ACTIVE_CASES]
)
def test_active_content_by_name_and_by_bytes(tmp_path, name, content, codes):
    file = tmp_path / name
    file.write_bytes(content)
    report = inspect_file(file)
    assert {p.code for p in report.problems} == codes, report.problems
    assert report.verdict == "reject"


def test_active_content_says_what_was_found_and_where(tmp_path):
    file = tmp_path / "notes.txt"
    file.write_bytes(b"Hi <img src=x onerror=alert(1)>")
    (problem,) = [p for p in inspect_file(file).problems if p.code == "active_content"]
    assert "text/html markup (onerror= at byte 14)" in problem.message
    file = tmp_path / "app.js"
    file.write_bytes(b"alert(1)")
    (problem,) = [p for p in inspect_file(file).problems if p.code == "active_content"]
    served = content_type_for("app.js")  # application/javascript, or text/javascript (3.12)
    assert problem.message.startswith(f".js is served as {served}, a type browsers run script")
    assert "refused by the upload API even with ?force=true" in problem.message
    assert problem.message.endswith("send a document as PDF, a picture as PNG or JPEG")


def _markup_in_png_text(path):
    info = PngInfo()
    info.add_text("Comment", "<html><script>alert(1)</script><svg onload=alert(1)>")
    fx.image(path, fmt="PNG", pnginfo=info)


# Real media whose own bytes hold markup: their signature says what they are.
MEDIA_HOLDING_MARKUP = [
    ("comment.jpg", lambda p: p.write_bytes(fx.jpeg_with_comment(b"<svg onload=alert(1)>"))),
    ("text-chunk.png", _markup_in_png_text),
    ("markup.pdf", lambda p: p.write_bytes(b"%PDF-1.4\n% <html><script>x</script>\n%%EOF\n")),
    ("markup.docx", partial(fx.office, folder="word")),  # its parts are XML
]


@pytest.mark.parametrize(
    ("name", "build"), MEDIA_HOLDING_MARKUP, ids=[c[0] for c in MEDIA_HOLDING_MARKUP]
)
def test_media_holding_markup_is_not_active(tmp_path, name, build):
    file = tmp_path / name
    build(file)
    assert inspect_file(file).problems == []


@needs_ffmpeg
@pytest.mark.parametrize(
    ("name", "arguments"),
    [
        ("tagged.mp4", (*fx.VIDEO_IN, "-t", "1", *fx.H264_MAIN, "-movflags", "+faststart")),
        ("tagged.ogg", (*fx.AUDIO_IN, "-t", "1", "-c:a", "libopus", "-ac", "1")),
        ("tagged.mp3", (*fx.AUDIO_IN, "-t", "1", "-c:a", "libmp3lame")),
    ],
)
def test_encoded_media_with_markup_in_its_tags_is_not_active(tmp_path, name, arguments):
    file = tmp_path / name
    fx.ffmpeg(file, *arguments, "-metadata", "title=<svg onload=alert(1)><script>x</script>")
    assert b"<svg" in file.read_bytes()
    assert inspect_file(file).problems == []


# Decompression bombs: named with their numbers, never an exception.

BOMBS = [
    ("bomb.png", fx.png_claiming(30_000, 30_000), "30000x30000 px (900 megapixels)"),
    ("huge.png", fx.png_claiming(10**6, 10**6), "1000000x1000000 px (1,000,000 megapixels)"),
    ("wide.png", fx.png_claiming(8_000, 8_000), "8000x8000 px (64.0 megapixels)"),
    ("bomb.jpg", fx.jpeg_claiming(60_000, 60_000), "60000x60000 px (3,600 megapixels)"),
    ("bomb.webp", fx.webp_claiming(16_000, 16_000), "16000x16000 px (256 megapixels)"),
]


@pytest.mark.parametrize(("name", "content", "measured"), BOMBS, ids=[c[0] for c in BOMBS])
def test_too_many_pixels_is_a_problem_with_the_numbers(tmp_path, name, content, measured):
    file = tmp_path / name
    file.write_bytes(content)
    problems = inspect_file(file).problems
    assert [p.code for p in problems] == ["too_many_pixels"]
    assert problems[0].level == ERROR
    assert f"image is {measured}; the limit here is 50 megapixels" in problems[0].message


def test_an_image_at_the_pixel_limit_is_decoded(tmp_path):
    assert MAX_IMAGE_PIXELS == 50_000_000
    file = tmp_path / "big.jpg"
    fx.image(file, size=(10_000, 5_000), fmt="JPEG")  # 50 MP of one colour: a small file
    assert inspect_file(file).problems == []
    file.write_bytes(fx.cut(file.read_bytes()))
    assert [p.code for p in inspect_file(file).problems] == ["truncated"]


# Truncation: an image is decoded whole, audio and video are read frame by frame.

CUT_IMAGES = [
    ("half.jpg", fx.cut(fx.noise())),
    ("no-eoi.jpg", fx.noise()[:-2]),
    ("progressive.jpg", fx.cut(fx.noise(progressive=True))),
    ("cmyk.jpg", fx.cut(fx.noise("CMYK"))),
    ("half.png", fx.cut(fx.noise(fmt="PNG"))),
    ("interlaced.png", fx.cut(fx.noise(fmt="PNG", interlace=1), 0.9)),
    ("half.webp", fx.cut(fx.noise("RGBA", (512, 512), "WEBP"))),
    ("almost.webp", fx.noise("RGBA", (512, 512), "WEBP", lossless=True)[:-10]),
]


@pytest.mark.parametrize(("name", "content"), CUT_IMAGES, ids=[c[0] for c in CUT_IMAGES])
def test_a_cut_image_is_truncated(tmp_path, name, content):
    file = tmp_path / name
    file.write_bytes(content)
    problems = inspect_file(file).problems
    assert [(p.code, p.level) for p in problems] == [("truncated", ERROR)], problems
    assert problems[0].message.endswith("send the whole file again")


def test_a_whole_image_of_each_kind_decodes(tmp_path):
    for name, content in [
        ("a.jpg", fx.noise()),
        ("b.jpg", fx.noise(progressive=True)),
        ("c.png", fx.noise(fmt="PNG", interlace=1)),
        ("d.webp", fx.encoded("RGBA", (512, 512), "WEBP")),
    ]:
        (tmp_path / name).write_bytes(content)
        assert inspect_file(tmp_path / name).problems == [], name


@pytest.mark.parametrize(
    "idat",
    [
        b"\x78\x9c" + bytes(range(256)) * 4,  # a zlib header, then no deflate stream
        zlib.compress(b"".join(b"\x07" + bytes(64 * 3) for _ in range(64))),  # filter type 7
    ],
    ids=["not-deflate", "bad-filter"],
)
def test_a_corrupt_image_is_undecodable(tmp_path, idat):
    file = tmp_path / "corrupt.png"
    file.write_bytes(fx.png_claiming(64, 64, idat))
    (problem,) = inspect_file(file).problems
    assert (problem.code, problem.level) == ("undecodable", ERROR)
    assert problem.message.endswith("export or save it again")


def test_amr_cut_mid_frame(tmp_path):
    file = tmp_path / "voice.amr"
    fx.amr(file)
    file.write_bytes(file.read_bytes()[:-7])
    (problem,) = inspect_file(file).problems
    assert (problem.code, problem.level) == ("truncated", ERROR)
    assert "the AMR frame at byte 294 runs to byte 326 but the file ends at byte 319" in (
        problem.message
    )


ENCODED_TO_CUT = [
    ("clip.mp4", make(fx.mp4, *fx.H264_MAIN, "-c:a", "aac"), "the mdat box runs to byte"),
    ("late.mp4", make(fx.mp4, *fx.H264_MAIN, "-c:a", "aac", faststart=False), "box runs to"),
    ("track.m4a", make(fx.ffmpeg, *fx.AUDIO_IN, "-t", "1", "-c:a", "aac"), "box runs to"),
    (
        "voice.ogg",
        make(fx.ffmpeg, *fx.AUDIO_IN, "-t", "3", "-c:a", "libopus", "-ac", "1"),
        "the Ogg page at byte",
    ),
    ("song.mp3", make(fx.ffmpeg, *fx.AUDIO_IN, "-t", "3", "-c:a", "libmp3lame"), "MP3 frame"),
    (
        "song.aac",
        make(fx.ffmpeg, *fx.AUDIO_IN, "-t", "3", "-c:a", "aac", "-f", "adts"),
        "AAC frame",
    ),
]


@needs_ffmpeg
@pytest.mark.parametrize(
    ("name", "build", "said"), ENCODED_TO_CUT, ids=[c[0] for c in ENCODED_TO_CUT]
)
def test_cut_audio_and_video_are_truncated(tmp_path, name, build, said):
    file = tmp_path / name
    build(file)
    whole = file.read_bytes()
    assert "truncated" not in {p.code for p in inspect_file(file).problems}
    for fraction in (0.3, 0.5, 0.97):
        file.write_bytes(fx.cut(whole, fraction))
        problems = [p for p in inspect_file(file).problems if p.code == "truncated"]
        assert [p.level for p in problems] == [ERROR], (fraction, problems)
        assert said in problems[0].message


@needs_ffmpeg
def test_mp3_cut_between_frames_is_truncated_by_its_info_header(tmp_path):
    file = tmp_path / "song.mp3"
    fx.ffmpeg(file, *fx.AUDIO_IN, "-t", "3", "-c:a", "libmp3lame", "-b:a", "128k")
    whole = file.read_bytes()
    frame = 417  # MPEG-1 layer III, 128 kbit/s, 44.1 kHz, no padding
    boundary = whole.rindex(b"\xff\xfb", 0, len(whole) // 2)  # a frame's header
    assert frame <= boundary
    file.write_bytes(whole[:boundary])
    (problem,) = inspect_file(file).problems
    assert (problem.code, problem.level) == ("truncated", ERROR)
    assert "header counts" in problem.message


@needs_ffmpeg
def test_ogg_without_its_end_of_stream_page_is_a_warning(tmp_path):
    file = tmp_path / "voice.ogg"
    fx.ffmpeg(file, *fx.AUDIO_IN, "-t", "1", "-c:a", "libopus", "-ac", "1")
    data = bytearray(file.read_bytes())
    last = data.rindex(b"OggS")
    data[last + 5] &= ~0x04  # clear the end-of-stream flag (the CRC is not checked here)
    file.write_bytes(bytes(data))
    problems = [p for p in inspect_file(file).problems if p.code == "truncated"]
    assert [p.level for p in problems] == [WARNING]


# Hostile bytes: whatever they are, a report, never an exception.

MEDIA_NAMES = [".jpg", ".png", ".webp", ".mp4", ".3gp", ".m4a", ".ogg", ".opus", ".mp3"]
MEDIA_NAMES += [".aac", ".amr", ".txt", ".pdf", ".docx", ".doc", ".html", ".bin"]
SIGNATURES = [b"", b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"RIFF\x00\x00\x00\x00WEBPVP8 "]
SIGNATURES += [b"\x00\x00\x00\x18ftypmp42", b"\x00\x00\x00\x18ftypM4A ", b"OggS", b"#!AMR\n"]
SIGNATURES += [b"ID3\x04\x00\x00\x00\x00\x00\x00", b"\xff\xfb\x90\x00", b"\xff\xf1\x50\x80"]
SIGNATURES += [b"PK\x03\x04", b"%PDF-", fx.png_claiming(64, 64)[:33]]
REAL_IMAGES = [fx.encoded(), fx.encoded(fmt="PNG"), fx.encoded("RGBA", (64, 64), "WEBP")]


@st.composite
def damaged(draw, originals):
    """A real file with some bytes changed, then cut anywhere."""
    data = bytearray(draw(st.sampled_from(originals)))
    for _ in range(draw(st.integers(0, 8))):
        data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
    return bytes(data[: draw(st.integers(0, len(data)))])


def hostile(originals):
    prefixed = st.tuples(st.sampled_from(SIGNATURES), st.binary(max_size=600))
    return st.one_of(prefixed.map(b"".join), damaged(originals))


def assert_reported(folder, extension, content):
    file = folder / f"hostile{extension}"
    file.write_bytes(content)
    report = inspect_file(file)
    assert report.verdict in ("ok", "warn", "reject")
    assert all(p.level in (ERROR, WARNING, INFO) and p.message for p in report.problems)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(extension=st.sampled_from(MEDIA_NAMES), content=hostile(REAL_IMAGES))
def test_inspection_survives_hostile_bytes(tmp_path_factory, extension, content):
    assert_reported(tmp_path_factory.mktemp("hostile"), extension, content)


@functools.cache
def encoded_originals() -> list[bytes]:
    folder = Path(tempfile.mkdtemp(prefix="media-origin-originals-"))
    builds = [build for name, build, _ in ENCODED_TO_CUT]
    originals = []
    for index, build in enumerate(builds):
        file = folder / f"{index}-{ENCODED_TO_CUT[index][0]}"
        build(file)
        originals.append(file.read_bytes())
    return originals


@needs_ffmpeg
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(extension=st.sampled_from(MEDIA_NAMES), data=st.data())
def test_inspection_survives_damaged_audio_and_video(tmp_path_factory, extension, data):
    content = data.draw(damaged(encoded_originals()))
    assert_reported(tmp_path_factory.mktemp("damaged"), extension, content)
