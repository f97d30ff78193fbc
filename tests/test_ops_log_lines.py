"""``origin.ops.log_lines``: the batcher's writes, the clock, the durations."""

import asyncio
import os
import signal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from origin.ops.log_lines import Clock, LineBatcher, milliseconds


def test_lines_wait_for_the_batch_then_go_out_in_one_write():
    async def scenario() -> None:
        reader, writer = os.pipe()
        with os.fdopen(writer, "w") as stream, os.fdopen(reader, "rb") as incoming:
            batcher = LineBatcher(stream, lines=3, delay=0.05)
            assert batcher.descriptor == writer
            os.set_blocking(reader, False)
            batcher.write("a\n")
            batcher.write("b\n")
            assert incoming.read() is None  # waiting: the batch is not full
            batcher.write("c\n")
            assert incoming.read() == b"a\nb\nc\n"
            batcher.write("é\ud800\n")  # a lone surrogate from a path is escaped, not fatal
            assert incoming.read() is None
            await asyncio.sleep(0.2)  # the timer writes what waits
            assert incoming.read() == "é\\ud800\n".encode()

    asyncio.run(scenario())


def test_a_log_nobody_reads_drops_its_lines_and_never_raises():
    reader, writer = os.pipe()
    os.close(reader)
    previous = signal.signal(signal.SIGPIPE, signal.SIG_IGN)  # as Python sets it
    try:
        with os.fdopen(writer, "w") as stream:
            batcher = LineBatcher(stream, lines=2)
            batcher.write("a\n")
            batcher.write("b\n")
            assert batcher.dropped == 2
    finally:
        signal.signal(signal.SIGPIPE, previous)


def test_the_clock_opening_changes_with_the_millisecond():
    assert Clock.refresh(1_700_000_000_123) == '{"time": "2023-11-14T22:13:20.123+00:00", '
    assert Clock.refresh(1_700_000_000_124) == '{"time": "2023-11-14T22:13:20.124+00:00", '
    assert Clock.refresh(1_700_000_001_000) == '{"time": "2023-11-14T22:13:21.000+00:00", '


@pytest.mark.parametrize(
    ("nanoseconds", "text"),
    [
        (0, "0.000"),
        (999, "0.000"),  # under a microsecond
        (1_000, "0.001"),
        (123_456, "0.123"),
        (9_999_999, "9.999"),  # the table's last entry
        (10_000_000, "10.000"),  # past the table: formatted, not remembered
        (61_234_567_890, "61234.567"),
    ],
)
def test_milliseconds_have_three_decimals_from_the_table_or_past_it(nanoseconds, text):
    assert milliseconds(nanoseconds) == text
    assert milliseconds(nanoseconds) == text  # the second time, from the table where it is


@given(st.integers(min_value=0, max_value=10**12))
def test_milliseconds_parse_back_to_the_whole_microseconds(nanoseconds):
    assert round(float(milliseconds(nanoseconds)) * 1000) == nanoseconds // 1000
