"""ffmpeg's progress lines as percents, and what the tools say when absent."""

import pytest

from origin.convert.tools import find_tools, progress_percent


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
