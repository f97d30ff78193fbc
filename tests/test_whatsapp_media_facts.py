"""ffprobe's JSON as facts: read leniently (numbers as strings, fields missing),
with cover art told from video and MP4 told from QuickTime by the name."""

from hypothesis import given
from hypothesis import strategies as st

from origin.whatsapp.media_facts import facts_from_ffprobe

PROBED = {
    "format": {"format_name": "mov,mp4,m4a,3gp,3g2,mj2", "duration": "12.500000"},
    "streams": [
        {
            "codec_type": "video",
            "codec_name": "h264",
            "profile": "High",
            "pix_fmt": "yuv420p",
            "width": 1280,
            "height": 720,
            "has_b_frames": 2,
        },
        {
            "codec_type": "audio",
            "codec_name": "aac",
            "channels": 2,
            "sample_rate": "44100",
            "bit_rate": "128000",
        },
        {"codec_type": "video", "codec_name": "mjpeg", "disposition": {"attached_pic": 1}},
    ],
}


def test_streams_and_format_are_read():
    facts = facts_from_ffprobe(PROBED, 1000, moov_first=False, name="clip.mov")
    assert facts.duration == 12.5 and facts.size == 1000 and facts.moov_first is False
    assert facts.video.codec == "h264" and facts.video.b_frames == 2
    assert facts.audio[0].sample_rate == 44100 and facts.audio[0].bit_rate == 128_000
    assert facts.label == "QuickTime"
    described = facts.describe("video")
    assert described["container"] == "QuickTime" and described["video"]["profile"] == "High"
    assert described["audio"] == {"codec": "aac", "channels": 2, "sample_rate": 44100, "streams": 1}


def test_cover_art_is_not_a_video():
    probed = {
        "format": {"format_name": "mp3"},
        "streams": [PROBED["streams"][1], PROBED["streams"][2]],
    }
    facts = facts_from_ffprobe(probed, 10, name="a.mp3")
    assert facts.video is None and facts.duration is None and facts.label == "MP3"


def test_a_stream_duration_stands_in_for_a_missing_format_one():
    probed = {
        "format": {"format_name": "ogg", "duration": "N/A"},
        "streams": [{"codec_type": "audio", "duration": "3.5"}],
    }
    assert facts_from_ffprobe(probed, 1).duration == 3.5


values = st.one_of(st.none(), st.text(max_size=8), st.integers(), st.floats(), st.booleans())


@given(
    st.dictionaries(
        st.sampled_from(
            [
                "codec_type",
                "codec_name",
                "width",
                "has_b_frames",
                "channels",
                "sample_rate",
                "duration",
                "disposition",
            ]
        ),
        values,
    )
)
def test_whatever_ffprobe_writes_is_read_without_an_error(stream):
    if not isinstance(stream.get("disposition", {}), dict):
        stream.pop("disposition")
    facts = facts_from_ffprobe(
        {"format": {"duration": stream.get("duration")}, "streams": [stream]}, 0
    )
    assert facts.duration is None or facts.duration > 0
    assert all(s.width >= 0 and s.channels >= 0 for s in facts.streams)
