"""The conversion recipes as tables: what each input gets (copy, re-encode, refuse),
the bitrate arithmetic as a property, and the target and name rules."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from origin.whatsapp.media_facts import MediaFacts, StreamFacts
from origin.whatsapp.problems import ERROR, WARNING, Problem, Report
from origin.whatsapp.recipes import (
    SIZE_MARGIN,
    TARGETS,
    VIDEO_FLOOR_KBPS,
    Plan,
    Unconvertible,
    already_fine,
    choose_target,
    converted_name,
    fitting_kbps,
    plan_audio,
    plan_video,
)
from origin.whatsapp.rules import MB

H264_MAIN = StreamFacts("video", "h264", "Main", "yuv420p", 320, 240)
H264_HIGH_B = StreamFacts("video", "h264", "High", "yuv420p", 320, 240, b_frames=2)
HEVC = StreamFacts("video", "hevc", "Main", "yuv420p", 320, 240, b_frames=2)
AAC = StreamFacts("audio", "aac", channels=2, sample_rate=44100, bit_rate=128_000)
OPUS_MONO = StreamFacts("audio", "opus", channels=1, sample_rate=48000)
OPUS_STEREO = StreamFacts("audio", "opus", channels=2, sample_rate=48000)
PCM = StreamFacts("audio", "pcm_s16le", channels=2, sample_rate=44100)
MP4 = "mov,mp4,m4a,3gp,3g2,mj2"


def movie(*streams, container=MP4, name="clip.mp4", seconds=10.0, size=1 * MB, moov=True):
    return MediaFacts(container, seconds, size, tuple(streams), moov, name)


def options(plan: Plan) -> str:
    return " ".join(plan.options)


@pytest.mark.parametrize(
    ("facts", "video", "audio", "words"),
    [
        # only the moov is wrong: a remux, every stream copied
        (movie(H264_MAIN, AAC, moov=False), "-c:v copy", "-c:a copy", "moov box before mdat"),
        # a QuickTime file of good streams: a remux into MP4
        (movie(H264_MAIN, AAC, name="clip.mov"), "-c:v copy", "-c:a copy", "QuickTime into MP4"),
        # High with B-frames: the video is encoded again, the AAC kept
        (movie(H264_HIGH_B, AAC), "-c:v libx264", "-c:a copy", "without B-frames"),
        (
            movie(HEVC, OPUS_STEREO, container="matroska,webm", name="a.webm"),
            "-profile:v main",
            "-c:a aac",
            "from opus to AAC",
        ),
        # two audio streams: the first kept, said so
        (movie(H264_MAIN, AAC, AAC), "-c:v copy", "-map 0:a:0", "first of 2 audio streams"),
    ],
)
def test_a_video_gets_the_least_that_works(facts, video, audio, words):
    plan = plan_video(facts, TARGETS["video"])
    assert isinstance(plan, Plan)
    text = options(plan)
    assert video in text and audio in text and "+faststart" in text and "-f mp4" in text
    assert any(words in step for step in plan.steps), plan.steps
    if "libx264" in text:
        assert "-bf 0" in text and "-pix_fmt yuv420p" in text and "-profile:v main" in text
    assert plan.encodes == ("copy" not in text.split("-c:v ")[1].split()[0])


def test_a_video_over_the_limit_is_encoded_even_when_its_streams_are_fine():
    plan = plan_video(movie(H264_MAIN, AAC, size=30 * MB, seconds=120), TARGETS["video"])
    assert isinstance(plan, Plan) and "libx264" in options(plan)


def test_a_video_too_long_to_fit_is_refused_with_the_figures():
    refusal = plan_video(movie(H264_HIGH_B, AAC, seconds=14 * 60), TARGETS["video"])
    assert isinstance(refusal, Unconvertible) and refusal.code == "cannot_fit"
    assert refusal.message.startswith(
        f"a 14-minute video cannot fit 16 MB above {VIDEO_FLOOR_KBPS} kb/s"
    )
    assert "trim it" in refusal.message and "send it as a document" in refusal.message


@given(
    seconds=st.floats(min_value=1, max_value=3 * 3600),
    max_bytes=st.integers(min_value=100_000, max_value=100 * MB),
    shrink=st.sampled_from([1.0, 0.8, 0.65]),
)
def test_a_fitting_bitrate_always_fits(seconds, max_bytes, shrink):
    kbps = fitting_kbps(max_bytes, seconds, shrink)
    assert kbps * 1000 * seconds / 8 <= max_bytes * SIZE_MARGIN * shrink
    assert (kbps + 1) * 1000 * seconds / 8 > max_bytes * SIZE_MARGIN * shrink


@given(seconds=st.floats(min_value=1, max_value=4 * 3600))
def test_an_encoded_video_plan_aims_under_its_limit(seconds):
    plan = plan_video(movie(HEVC, PCM, seconds=seconds), TARGETS["video"])
    if isinstance(plan, Unconvertible):
        assert fitting_kbps(16 * MB, seconds) < VIDEO_FLOOR_KBPS + 128
        return
    text = plan.options
    video = int(text[text.index("-maxrate") + 1].rstrip("k"))
    audio = int(text[text.index("-b:a") + 1].rstrip("k"))
    assert video >= VIDEO_FLOOR_KBPS
    assert (video + audio) * 1000 * seconds / 8 <= 16 * MB


def test_a_file_without_a_picture_is_not_a_video():
    refusal = plan_video(movie(AAC), TARGETS["video"])
    assert isinstance(refusal, Unconvertible) and refusal.code == "no_video_stream"


@pytest.mark.parametrize(
    ("stream", "target", "expected"),
    [
        (OPUS_MONO, "voice", "-c:a copy"),  # WebM/Opus mono: remuxed into Ogg
        (OPUS_STEREO, "voice", "-c:a libopus -ac 1 -ar 48000"),
        (PCM, "voice", "-c:a libopus -ac 1 -ar 48000"),
        (AAC, "audio", "-c:a copy"),  # AAC: moved into M4A
        (PCM, "audio", "-c:a aac"),
        (OPUS_STEREO, "audio-opus", "-c:a libopus -ac 1"),
    ],
)
def test_audio_is_copied_when_it_already_is_the_codec(stream, target, expected):
    plan = plan_audio(movie(stream, container="matroska,webm", name="a.webm"), TARGETS[target])
    assert isinstance(plan, Plan) and expected in options(plan)
    assert options(plan).endswith("-f ogg" if TARGETS[target].extension == ".ogg" else "-f ipod")


@pytest.mark.parametrize(("seconds", "kbps"), [(10, 32), (120, 31), (200, 18), (600, 16)])
def test_a_voice_note_keeps_under_512_kb_while_it_can(seconds, kbps):
    plan = plan_audio(movie(PCM, seconds=seconds), TARGETS["voice"])
    assert isinstance(plan, Plan)
    assert f"-b:a {kbps}k" in options(plan)
    assert ("under 512 KB" in plan.steps[-1]) == (seconds * kbps * 1000 / 8 <= 512_000)


@pytest.mark.parametrize(
    ("seconds", "said"),
    [
        (3, "32 kb/s keeps a 3-second note under 512 KB, so WhatsApp shows a play button"),
        (600, "a 10-minute note is over 512 KB even at 16 kb/s"),
    ],
)
def test_a_voice_notes_last_step_says_whether_it_plays_inline(seconds, said):
    plan = plan_audio(movie(PCM, seconds=seconds), TARGETS["voice"])
    assert isinstance(plan, Plan) and plan.steps[-1].startswith(said)


@pytest.mark.parametrize(
    ("kind", "asked", "folder", "expected"),
    [
        ("picture", None, None, "image"),
        ("picture", None, "sticker", "sticker"),
        ("picture", "image", "sticker", "image"),  # the request wins
        ("picture", None, "voice", "image"),  # a folder's voice is not a picture's
        ("audio", None, "voice", "voice"),
        ("audio", None, None, "audio"),
        ("video", "audio", None, "audio"),  # the sound of a video
        ("video", None, "sticker", "video"),
    ],
)
def test_the_target_is_the_request_then_the_folder_then_the_kind(kind, asked, folder, expected):
    assert choose_target(kind, asked, folder).name == expected


def test_a_target_the_kind_cannot_become_is_refused():
    refusal = choose_target("audio", "sticker", None)
    assert isinstance(refusal, Unconvertible) and "audio or voice" in refusal.message
    assert choose_target("audio", None, None, "opus").extension == ".ogg"


def report(name: str, *problems: Problem) -> Report:
    return Report(name, None, "", 1, list(problems))


@pytest.mark.parametrize(
    ("name", "problems", "target", "fine"),
    [
        ("/a.jpg", [], "image", True),
        ("/a.jpg", [Problem("exif_rotation", WARNING, "")], "image", False),
        ("/a.png", [], "sticker", False),
        ("/a.webp", [], "sticker", True),
        ("/a.m4a", [], "audio", True),
        ("/a.m4a", [], "voice", False),  # a voice note must be Ogg/Opus
        ("/a.ogg", [], "voice", True),
        ("/a.mp4", [Problem("video_profile", ERROR, "")], "video", False),
        ("/a.mov", [], "video", False),
    ],
)
def test_a_file_already_fine_is_left_alone(name, problems, target, fine):
    assert already_fine(report(name, *problems), TARGETS[target]) is fine


@pytest.mark.parametrize(
    ("name", "extension", "expected"),
    [
        ("/v/clip.mov", ".mp4", "/v/clip.mp4"),
        ("/voice/note.webm", ".ogg", "/voice/note.ogg"),
        ("/a/photo.jpeg", ".jpg", "/a/photo.jpeg"),
        ("/a/photo.heic", ".jpg", "/a/photo.jpg"),
        ("/a/clip.mp4", ".mp4", "/a/clip.mp4"),
        ("/a/v1.2/noext", ".mp4", "/a/v1.2/noext.mp4"),
    ],
)
def test_the_name_follows_the_new_type(name, extension, expected):
    assert converted_name(name, extension) == expected
