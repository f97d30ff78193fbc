"""The ``[convert]`` table: how many conversions run at once and the bounds of
each (time, memory, input size), the audio codec of plain audio, and where
ffmpeg is. Checked at start-up like every table."""

from __future__ import annotations

from typing import Any

from origin.config.records import SECTION_KEYS, ConvertConfig

AUDIO_CODECS = ("aac", "opus")
LEAST_ZERO = {"workers": "0 (one per two cores)", "serving_cores": "0 (every core)"}


def read_convert(reader: Any, table: dict[str, Any]) -> ConvertConfig:
    """``reader`` is ``tables._Reader``: its messages name the file and the key."""
    reader.only_keys(table, "convert", SECTION_KEYS["convert"])
    default = ConvertConfig()
    values: dict[str, Any] = {}
    for key in ("workers", "max_pixels", "memory_mb", "serving_cores"):
        values[key] = reader.typed(table, "convert", key, int, getattr(default, key))
        if values[key] < (0 if key in LEAST_ZERO else 1):
            least = LEAST_ZERO.get(key, "1")
            raise reader.fail(f"convert.{key}", f"must be a whole number of at least {least}")
    for key in ("timeout", "job_after", "max_duration"):
        value = table.get(key, getattr(default, key))
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            raise reader.fail(f"convert.{key}", "must be a number of seconds above 0")
        values[key] = float(value)
    for key in ("audio", "ffmpeg", "ffprobe"):
        values[key] = reader.typed(table, "convert", key, str, getattr(default, key))
        if not values[key]:
            raise reader.fail(f"convert.{key}", "must not be empty")
    if values["audio"] not in AUDIO_CODECS:
        raise reader.fail("convert.audio", f'{values["audio"]!r} is not "aac" or "opus"')
    return ConvertConfig(**values)
