"""ffmpeg's progress lines as percents, what the tools say when absent, and an
audio output read back in-process saying what ffprobe says of it."""

import asyncio

import pytest

from origin.convert.processes import Limits
from origin.convert.tools import find_tools, probe, progress_percent, read_back
from tests.helpers import media as fx
from tests.helpers.conversion_inputs import SINE, ogg_vorbis


@pytest.mark.parametrize(
    ("line", "duration", "percent"),
    [
        (b"out_time_us=5000000\n", 10.0, 50),
        (b"out_time_us=N/A\n", 10.0, None),
        (b"out_time_us=99000000\n", 10.0, 99),  # never 100 before progress=end
        (b"progress=end\n", None, 100),
        (b"frame=12\n", 10.0, None),
        (b"out_time_us=5000000\n", None, None),  # no duration known: no percent
        (b"out_time_us=-1\n", 10.0, None),
    ],
)
def test_progress_lines(line, duration, percent):
    assert progress_percent(line, duration) == percent


def test_missing_tools_are_named_with_the_fix():
    tools = find_tools("/nonexistent/ffmpeg", "ffprobe")
    assert tools.ffmpeg is None
    assert tools.missing.startswith("ffmpeg is not installed on this server")
    assert "apt-get install ffmpeg" in tools.missing


def _read(file, reader):
    tools = find_tools("ffmpeg", "ffprobe")
    limits = Limits(seconds=30, cpu_seconds=60, memory_bytes=1024 * 2**20)
    return asyncio.run(reader(tools, file, limits))


@pytest.mark.parametrize(
    ("make", "name", "codec", "channels"),
    [
        (
            lambda p: fx.ffmpeg(p, *SINE, "-t", "2", "-ac", "1", "-c:a", "libopus"),
            "v.ogg",
            "opus",
            1,
        ),
        (lambda p: fx.ffmpeg(p, *SINE, "-t", "2", "-ac", "2", "-c:a", "aac"), "a.m4a", "aac", 2),
        (
            ogg_vorbis,
            "n.ogg",
            "vorbis",
            1,
        ),  # not Opus: mutagen's reading is not taken, ffprobe's is
    ],
)
def test_an_audio_output_read_back_agrees_with_ffprobe(tmp_path, make, name, codec, channels):
    file = tmp_path / name
    make(file)
    ours, ffprobes = _read(file, read_back), _read(file, probe)
    for facts in (ours, ffprobes):
        assert facts.audio[0].codec == codec and facts.audio[0].channels == channels
        assert facts.audio[0].sample_rate == 48000 and facts.video is None
        assert facts.duration == pytest.approx(2.0, abs=0.1)
    assert ours.describe("audio")["container"] == ffprobes.describe("audio")["container"]
    assert ours.size == ffprobes.size == file.stat().st_size
