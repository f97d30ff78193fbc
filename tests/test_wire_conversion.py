"""Converted uploads over a real socket, from real inputs made with ffmpeg and
Pillow: every output is read back with ffprobe and Pillow and must pass check,
with the codec, profile, B-frames, moov position, channels, dimensions and size
the rules ask for; what cannot be converted is refused and nothing is stored."""

import pytest

from origin.whatsapp.inspection import inspect_file
from tests.helpers import conversion_inputs as inputs
from tests.helpers import media as fx
from tests.helpers.probes import b_frame_count, image_facts, moov_before_mdat, streams
from tests.helpers.servers import start_server, write_config

TOKEN = "convert-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
CONFIG = """
[api]
token_env = "TEST_CONVERT_TOKEN"

# These tests read what a conversion makes, not when it is answered: on a busy
# machine an 8 MB photo can take longer than the 5 s default, and the upload
# would then be answered 202 with a job (tests/test_wire_jobs.py covers that).
[convert]
job_after = 300

[policy."/"]
convert = true

[policy."/stickers"]
convert_as = "sticker"

[policy."/voice"]
convert_as = "voice"

[policy."/kept"]
keep_original = true

[policy."/strict"]
convert = false
"""


@pytest.fixture(scope="module")
def origin(tmp_path_factory):
    directory = tmp_path_factory.mktemp("conversion")
    root = directory / "media"
    root.mkdir()
    config = write_config(directory, CONFIG)
    with start_server(config, root, env={"TEST_CONVERT_TOKEN": TOKEN}) as server:
        yield server


@pytest.fixture
def made(tmp_path):
    """``made(builder, name)``: a real input file, its bytes."""

    def make(builder, name):
        return builder(tmp_path / name).read_bytes()

    return make


def put(origin, path, body, **params):
    return origin.client().put(path, content=body, headers=AUTH, params=params, timeout=120)


def stored_file(origin, answer):
    """The stored output, checked as check would: never a reject."""
    assert answer.status_code == 201, answer.text
    body = answer.json()
    file = origin.root / body["path"].lstrip("/")
    report = inspect_file(file, body["path"])
    assert report.verdict != "reject", report.to_json()
    assert file.stat().st_size == body["size"] == body["converted"]["to"]["size"]
    assert body["converted"]["steps"] and all(
        isinstance(s, str) for s in body["converted"]["steps"]
    )
    return file, body


def only_stream(file, kind):
    [stream] = streams(file, kind)
    return stream


def assert_voice_note(file):
    audio = only_stream(file, "audio")
    assert (audio["codec_name"], audio["channels"], int(audio["sample_rate"])) == ("opus", 1, 48000)
    assert file.suffix == ".ogg" and file.stat().st_size <= 512_000
    assert streams(file, "video") == []


@pytest.mark.parametrize(
    ("builder", "name", "as_"),
    [
        (inputs.webm_opus_voice, "note.webm", None),  # the folder says voice
        (inputs.stereo_wav, "memo.wav", None),
        (inputs.amr_wb, "call.amr", None),
        (inputs.m4a_aac, "phone.m4a", None),
        (inputs.stereo_ogg_opus, "stereo.ogg", None),
    ],
)
def test_voice_notes_become_mono_48_khz_ogg_opus(origin, made, builder, name, as_):
    file, body = stored_file(origin, put(origin, f"/voice/{name}", made(builder, name)))
    assert body["path"] == f"/voice/{name.rsplit('.', 1)[0]}.ogg"
    assert body["content_type"] == "audio/ogg; codecs=opus"
    assert_voice_note(file)


@pytest.mark.parametrize(
    ("builder", "name"),
    [
        (inputs.stereo_wav, "song.wav"),
        (inputs.flac_audio, "tune.flac"),
        (inputs.ogg_vorbis, "v.ogg"),
    ],
)
def test_unsupported_audio_becomes_aac_in_m4a(origin, made, builder, name):
    file, body = stored_file(origin, put(origin, f"/music/{name}", made(builder, name)))
    assert file.suffix == ".m4a" and body["whatsapp_type"] == "audio"
    assert only_stream(file, "audio")["codec_name"] == "aac"


def test_a_supported_audio_file_is_kept_as_it_is(origin, made):
    data = made(inputs.m4a_aac, "ok.m4a")
    answer = put(origin, "/music/ok.m4a", data)
    assert answer.status_code == 201 and "converted" not in answer.json()
    assert (origin.root / "music/ok.m4a").read_bytes() == data


@pytest.mark.parametrize(
    ("builder", "name", "stored", "copied"),
    [
        (inputs.mov_hevc, "iphone.mov", "iphone.mp4", False),
        (inputs.mp4_high_bframes, "high.mp4", "high.mp4", False),
        (inputs.mp4_moov_at_end, "late.mp4", "late.mp4", True),
        (inputs.mp4_two_audio_streams, "two.mp4", "two.mp4", True),
    ],
)
def test_videos_become_h264_main_without_b_frames_moov_first(
    origin, made, builder, name, stored, copied
):
    source = made(builder, name)
    file, body = stored_file(origin, put(origin, f"/video/{name}", source))
    assert body["path"] == f"/video/{stored}"
    video = only_stream(file, "video")
    assert video["codec_name"] == "h264" and video["profile"] in ("Main", "Constrained Baseline")
    assert video["pix_fmt"] == "yuv420p" and b_frame_count(file) == 0
    assert moov_before_mdat(file) and file.stat().st_size <= 16_000_000
    assert len(streams(file, "audio")) == 1 and only_stream(file, "audio")["codec_name"] == "aac"
    steps = " ".join(body["converted"]["steps"])
    assert ("kept the H.264" in steps) == copied  # a remux copies a stream that was fine
    assert body["converted"]["from"]["size"] == len(source)


def test_a_video_too_long_to_fit_is_refused_with_the_figures_and_nothing_is_stored(origin, made):
    answer = put(origin, "/video/long.mp4", made(inputs.mp4_too_long_to_fit, "long.mp4"))
    assert answer.status_code == 422 and answer.json()["error"] == "cannot_fit"
    assert "14-minute video cannot fit 16 MB above 300 kb/s" in answer.json()["message"]
    assert not (origin.root / "video/long.mp4").exists()


@pytest.mark.parametrize(
    ("builder", "name", "stored"),
    [
        (inputs.cmyk_jpeg, "cmyk.jpg", "cmyk.jpg"),
        (inputs.png_16_bit_file, "deep.png", "deep.jpg"),
        (inputs.webp_photo, "photo.webp", "photo.jpg"),
        (inputs.heic_photo, "iphone.heic", "iphone.jpg"),
        (inputs.big_jpeg_8mb, "camera.jpg", "camera.jpg"),
        (inputs.palette_png, "palette.png", "palette.jpg"),
        (inputs.la_png, "grey.png", "grey.png"),
        (inputs.static_gif, "still.gif", "still.jpg"),
        (inputs.bmp_image, "scan.bmp", "scan.jpg"),
        (inputs.tiff_image, "page.tiff", "page.jpg"),
    ],
)
def test_images_become_8_bit_rgb_under_5_mb(origin, made, builder, name, stored):
    file, body = stored_file(origin, put(origin, f"/photos/{name}", made(builder, name)))
    assert body["path"] == f"/photos/{stored}"
    facts = image_facts(file)
    assert facts["mode"] in ("RGB", "RGBA") and facts["format"] in ("JPEG", "PNG")
    assert file.stat().st_size <= 5_000_000 and not facts["exif_orientation"]


def test_an_exif_rotated_photo_is_turned_upright_and_its_tag_dropped(origin, made):
    data = made(inputs.exif_rotated_jpeg, "turned.jpg")
    file, body = stored_file(origin, put(origin, "/photos/turned.jpg", data))
    before = body["converted"]["from"]
    facts = image_facts(file)
    assert facts["size"] == (before["height"], before["width"]) and not facts["exif_orientation"]
    assert any("upright" in step for step in body["converted"]["steps"])


@pytest.mark.parametrize(
    ("builder", "name", "animated", "limit"),
    [
        (inputs.png_300_for_sticker, "hi.png", False, 100_000),
        (inputs.animated_gif_for_sticker, "wave.gif", True, 500_000),
    ],
)
def test_stickers_become_512_square_webp_within_their_limit(
    origin, made, builder, name, animated, limit
):
    file, body = stored_file(origin, put(origin, f"/stickers/{name}", made(builder, name)))
    assert body["path"].endswith(".webp") and body["whatsapp_type"] == "sticker"
    facts = image_facts(file)
    assert facts["format"] == "WEBP" and facts["size"] == (512, 512)
    assert facts["is_animated"] == animated and file.stat().st_size <= limit
    assert facts["has_transparency"]  # the picture fitted on a transparent canvas


def test_as_sticker_on_a_request_wins_over_the_folder(origin, made):
    answer = put(
        origin, "/photos/badge.png", made(inputs.png_300_for_sticker, "b.png"), **{"as": "sticker"}
    )
    assert stored_file(origin, answer)[1]["path"] == "/photos/badge.webp"


def test_a_file_already_fine_is_stored_byte_for_byte(origin):
    data = fx.encoded("RGB", (64, 48), "JPEG")
    answer = put(origin, "/photos/fine.jpg", data)
    assert answer.status_code == 201 and "converted" not in answer.json()
    assert (origin.root / "photos/fine.jpg").read_bytes() == data


def test_the_original_is_kept_only_where_the_policy_says_and_never_served(origin, made):
    data = made(inputs.cmyk_jpeg, "k.jpg")
    stored_file(origin, put(origin, "/kept/k.jpg", data))
    original = origin.root / ".media-origin/originals/kept/k.jpg"
    assert original.read_bytes() == data
    assert origin.client().get("/.media-origin/originals/kept/k.jpg").status_code == 404
    stored_file(origin, put(origin, "/photos/gone.jpg", made(inputs.cmyk_jpeg, "g.jpg")))
    assert not (origin.root / ".media-origin/originals/photos").exists()


@pytest.mark.parametrize(
    ("builder", "name"),
    [(inputs.corrupt_video, "broken.mov"), (inputs.corrupt_audio, "broken.wav")],
)
def test_a_corrupt_input_is_a_clear_422_and_nothing_is_stored(origin, made, builder, name):
    answer = put(origin, f"/bad/{name}", made(builder, name))
    assert answer.status_code == 422 and answer.json()["error"] == "unreadable"
    assert "export it again" in answer.json()["message"]
    assert not (origin.root / "bad").exists()


def test_a_decompression_bomb_is_refused_before_it_is_decoded(origin, made):
    answer = put(origin, "/bad/bomb.png", made(inputs.decompression_bomb_png, "bomb.png"))
    assert answer.status_code == 422 and answer.json()["error"] == "too_many_pixels"
    assert not (origin.root / "bad").exists()


def test_convert_false_keeps_the_refusal_and_as_asks_for_a_conversion(origin, made):
    mov = made(inputs.mov_hevc, "r.mov")
    assert put(origin, "/video/r.mov", mov, convert="false").status_code == 415
    assert put(origin, "/strict/r.mov", mov).status_code == 415
    assert put(origin, "/strict/r.mov", mov, **{"as": "video"}).status_code == 201
    bad = put(origin, "/video/r.mov", mov, **{"as": "gif"})
    assert bad.status_code == 400 and "image, sticker, voice, audio, video" in bad.json()["message"]
    both = put(origin, "/video/r.mov", mov, convert="false", **{"as": "video"})
    assert both.status_code == 400 and both.json()["error"] == "bad_parameter"
    assert put(origin, "/photos/report.pdf", fx.encoded(), **{"as": "image"}).status_code in (
        415,
        422,
    )


def test_a_post_converts_every_file_and_stores_them_together(origin, made):
    files = [
        ("file", ("a.wav", made(inputs.stereo_wav, "a.wav"))),
        ("file", ("b.webp", made(inputs.webp_photo, "b.webp"))),
    ]
    answer = origin.client().post("/batch/", files=files, headers=AUTH, timeout=120)
    assert answer.status_code == 201, answer.text
    assert [item["path"] for item in answer.json()] == ["/batch/a.m4a", "/batch/b.jpg"]
    assert all("converted" in item for item in answer.json())


def test_the_jobs_folder_is_reserved(origin):
    answer = put(origin, "/_jobs/x.jpg", fx.encoded())
    assert answer.status_code == 405 and answer.headers["allow"] == "GET, HEAD"
    assert origin.client().get("/_jobs/aaaaaaaaaaaaaaaa", headers=AUTH).status_code == 404
    assert origin.client().get("/_jobs/aaaaaaaaaaaaaaaa").status_code == 401
    assert origin.client().delete("/_jobs/aaaaaaaaaaaaaaaa", headers=AUTH).status_code == 405
