"""Truncation of audio, read from the container's own framing, without mutagen.

Every Ogg page and every MP3, ADTS and AMR frame says how long it is, so a file
cut mid-way ends in a page or frame that runs past its end. Only that is judged:
bytes that are not a page or frame (tags, junk, another format) end the walk
with no verdict, so a valid file is never called cut. The file is mapped, not
read, and the walk stops after MAX_FRAMES_WALKED: any size costs no memory and
bounded time.
"""

from __future__ import annotations

import mmap
from collections.abc import Callable
from pathlib import Path

from origin.whatsapp.problems import WARNING, Problem, truncated

MAX_FRAMES_WALKED = 1_000_000  # audio frames read for the truncation check, at most

OGG_PAGE_HEADER = 27  # bytes before the segment table
OGG_END_OF_STREAM = 0x04  # header_type flag of a stream's last page


def ogg_cut(file: Path) -> Problem | None:
    """A cut Ogg page (an error), or a last page that does not end the stream (a
    warning: the cut may have fallen on a page boundary); None when whole."""
    return _mapped(file, _ogg_pages_cut)


def _mapped(file: Path, walk: Callable[[mmap.mmap], Problem | None]) -> Problem | None:
    """``walk`` over the file's bytes, mapped rather than read: no copy, any size."""
    with file.open("rb") as handle:
        if file.stat().st_size == 0:
            return None
        with mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
            return walk(data)


def _ogg_pages_cut(data: mmap.mmap) -> Problem | None:
    size = len(data)
    position, pages, flags = 0, 0, None
    while position < size and pages < MAX_FRAMES_WALKED:
        capture = data[position : position + 4]
        if capture != b"OggS":
            if len(capture) < 4 and b"OggS".startswith(capture):
                return truncated(f"the Ogg page at byte {position:,} is cut in its header")
            return None
        table = position + OGG_PAGE_HEADER  # the header's last byte counts the segments
        if table > size or table + data[table - 1] > size:
            return truncated(f"the Ogg page at byte {position:,} is cut in its header")
        end = table + data[table - 1]
        end += sum(data[table:end])  # each segment's length
        if end > size:
            return truncated(
                f"the Ogg page at byte {position:,} runs to byte {end:,} but the file ends at "
                f"byte {size:,}"
            )
        flags = data[position + 5]
        position, pages = end, pages + 1
    if position == size and flags is not None and not flags & OGG_END_OF_STREAM:
        return Problem(
            "truncated",
            WARNING,
            "the last Ogg page does not end the stream (no end-of-stream flag): the file may "
            "have been cut at a page boundary; if it plays short, send the whole file again",
        )
    return None


XING_FRAMES, XING_BYTES = 0x01, 0x02  # which counts a Xing/Info header holds
SYNC_BYTE = 0xFF  # the first byte of every MP3 and ADTS frame header
FrameReader = Callable[[mmap.mmap, int], tuple[int, object] | None]
"""(frame length in bytes, what every frame of the stream shares) of the frame
at an offset, or None when no frame starts there."""

# kbit/s by bitrate index 1 to 14, for layer III: MPEG-1, and MPEG-2 and 2.5.
_MP3_KBITS = {
    True: (32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
    False: (8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
}
# Hz by sample-rate index, by version bits (3: MPEG-1, 2: MPEG-2, 0: MPEG-2.5; 1 is reserved).
_MP3_RATES = {3: (44100, 48000, 32000), 2: (22050, 24000, 16000), 0: (11025, 12000, 8000)}
# Frame bytes, header included, by frame type, as ffmpeg's AMR demuxer reads them.
_AMR_FRAME_BYTES = {
    ".amr": (13, 14, 16, 18, 20, 21, 27, 32, 6, 1, 1, 1, 1, 1, 1, 1),
    "wide": (18, 24, 33, 37, 41, 47, 51, 59, 61, 6, 1, 1, 1, 1, 1, 1),
}


def _mp3_frame(data: mmap.mmap, position: int) -> tuple[int, object] | None:
    header = data[position : position + 4]
    if len(header) < 4 or header[0] != 0xFF or header[1] & 0xE0 != 0xE0:
        return None
    version, layer = (header[1] >> 3) & 3, (header[1] >> 1) & 3
    bitrate, rate = header[2] >> 4, (header[2] >> 2) & 3
    if version == 1 or layer != 1 or bitrate in (0, 15) or rate == 3:
        return None  # reserved, not layer III, free format or invalid
    kbits = _MP3_KBITS[version == 3][bitrate - 1]
    samples_per_byte = 144 if version == 3 else 72
    length = samples_per_byte * kbits * 1000 // _MP3_RATES[version][rate] + (header[2] >> 1 & 1)
    return length, (version, rate)


def _adts_frame(data: mmap.mmap, position: int) -> tuple[int, object] | None:
    header = data[position : position + 7]
    if len(header) < 7 or header[0] != 0xFF or header[1] & 0xF6 != 0xF0:
        return None  # 12 sync bits, layer 00
    length = ((header[3] & 0x03) << 11) | (header[4] << 3) | (header[5] >> 5)
    return (length, (header[1] & 0x08, header[2] >> 2)) if length >= 7 else None


def _amr_frame(table: tuple[int, ...]) -> FrameReader:
    def frame(data: mmap.mmap, position: int) -> tuple[int, object] | None:
        header = data[position]
        if header & 0x83:  # padding bits, zero in the storage format
            return None
        return table[(header >> 3) & 0x0F], None

    return frame


def frames_cut(file: Path, extension: str) -> list[Problem]:
    """Walk MP3, ADTS or AMR frames from the first (after ID3v2 tags, or the AMR
    magic) to the end; a last frame running past it means the file was cut."""

    def walk(data: mmap.mmap) -> Problem | None:
        if extension == ".amr":
            wide = data[:9] == b"#!AMR-WB\n"
            start = 9 if wide else 6
            reader = _amr_frame(_AMR_FRAME_BYTES["wide" if wide else ".amr"])
            return _cut_frame(data, start, reader, "AMR", header=1)
        if extension == ".mp3":
            start = _after_id3(data)
            declared = _xing_bytes(data, start)
            ends = start + declared if declared is not None else None
            return _cut_frame(data, start, _mp3_frame, "MP3", header=4, declared_end=ends)
        return _cut_frame(data, _after_id3(data), _adts_frame, "AAC", header=7)

    cut = _mapped(file, walk)
    return [cut] if cut is not None else []


def _after_id3(data: mmap.mmap) -> int:
    """Where the audio starts: after any ID3v2 tags (10-byte header, a syncsafe
    size, and a 10-byte footer when flagged)."""
    position = 0
    while data[position : position + 3] == b"ID3" and position + 10 <= len(data):
        size = 0
        for byte in data[position + 6 : position + 10]:
            size = size << 7 | byte & 0x7F
        position += 10 + size + (10 if data[position + 5] & 0x10 else 0)
    return position


def _xing_bytes(data: mmap.mmap, start: int) -> int | None:
    """The byte count of an MP3's Xing or Info header (LAME's and ffmpeg's first
    frame: the stream's length, that frame included), when it has one."""
    header = data[start : start + 4]
    if len(header) < 4:
        return None
    mpeg1, mono = (header[1] >> 3) & 3 == 3, header[3] >> 6 == 3
    side_info = (17 if mono else 32) if mpeg1 else (9 if mono else 17)
    tag = start + 4 + side_info + (0 if header[1] & 1 else 2)  # 2 bytes of CRC when protected
    if data[tag : tag + 4] not in (b"Xing", b"Info"):
        return None
    flags = int.from_bytes(data[tag + 4 : tag + 8], "big")
    if not flags & XING_BYTES:
        return None
    offset = tag + 8 + (4 if flags & XING_FRAMES else 0)
    return int.from_bytes(data[offset : offset + 4], "big") or None


def _cut_frame(
    data: mmap.mmap,
    start: int,
    reader: FrameReader,
    kind: str,
    header: int,
    declared_end: int | None = None,
) -> Problem | None:
    """A cut last frame, or None. ``header`` is its header's length: fewer bytes
    left than that, starting with a sync byte, is a header cut. ``declared_end``
    is where the stream says it ends: frames that stop cleanly short of it were
    cut at a frame boundary."""
    size = len(data)
    position, frames, stream = start, 0, None
    while position < size and frames < MAX_FRAMES_WALKED:
        if size - position < header and frames and data[position] == SYNC_BYTE:
            return truncated(f"the {kind} frame at byte {position:,} is cut in its header")
        frame = reader(data, position)
        if frame is None or (stream is not None and frame[1] != stream):
            return None  # not a frame of this stream: not this check's to judge
        length, stream = frame
        if position + length > size:
            return truncated(
                f"the {kind} frame at byte {position:,} runs to byte {position + length:,} but "
                f"the file ends at byte {size:,}"
            )
        position, frames = position + length, frames + 1
    if position == size and declared_end is not None and size < declared_end:
        return truncated(
            f"the {kind} header counts {declared_end - start:,} bytes of audio but the file "
            f"holds {size - start:,}"
        )
    return None
