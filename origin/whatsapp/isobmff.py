"""A small ISO-BMFF (MP4, 3GP, M4A) box reader: just what WhatsApp's video rules
need, from box headers and the ``moov`` box, never reading media data.

Written here because no well-kept library fits: pymp4 (last release 2023)
parses boxes but not codec configuration, mutagen reads MP4 audio tags but not
video tracks, and ffprobe is a system tool that may be absent. The format is
ISO/IEC 14496-12 (boxes), 14496-15 (avcC) and 14496-14 (esds).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import BinaryIO

MAX_MOOV_BYTES = 32 * 1024 * 1024
_CONTAINERS = {b"moov", b"trak", b"mdia", b"minf", b"stbl", b"edts", b"udta"}


class NotISOBMFF(ValueError):
    pass


class Truncated(NotISOBMFF):
    """A top-level box runs past the end of the file: the file was cut, most often
    mid-upload, rather than written wrong."""

    def __init__(self, kind: str, box_end: int, file_size: int) -> None:
        super().__init__(
            f"the {kind} box runs to byte {box_end:,} but the file ends at byte {file_size:,}"
        )
        self.kind, self.box_end, self.file_size = kind, box_end, file_size


class _Overrun(NotISOBMFF):
    """A box larger than what holds it: truncation at the top level, else corruption."""

    def __init__(self, kind: bytes, size: int) -> None:
        super().__init__(f"box {kind!r} of {size} bytes does not fit the file")
        self.kind, self.size = kind, size


@dataclass
class Track:
    handler: str  # "vide", "soun", ...
    codec: str | None = None  # sample entry type: "avc1", "hvc1", "mp4a", ...
    h264_profile: int | None = None  # AVCProfileIndication: 66 Baseline, 77 Main, 100 High
    audio_object_type: int | None = None  # esds objectTypeIndication: 0x40 is AAC
    has_composition_offsets: bool = False  # a ctts box with a non-zero offset: B-frames
    data_end: int | None = None  # the file offset where its last chunk of samples ends


@dataclass
class Movie:
    brand: str
    size: int = 0  # of the file, in bytes
    top_level: list[str] = field(default_factory=list)  # box types in file order
    tracks: list[Track] = field(default_factory=list)

    @property
    def moov_before_mdat(self) -> bool | None:
        if "moov" not in self.top_level or "mdat" not in self.top_level:
            return None
        return self.top_level.index("moov") < self.top_level.index("mdat")

    @property
    def fragmented(self) -> bool:
        return "moof" in self.top_level

    def handlers(self, handler: str) -> list[Track]:
        return [track for track in self.tracks if track.handler == handler]


def read_movie(file: BinaryIO) -> Movie:
    """Walk the top-level boxes, then parse ``moov``. Raise NotISOBMFF for other files."""
    file.seek(0, 2)
    end = file.tell()
    movie: Movie | None = None
    moov: bytes | None = None
    position = 0
    while position + 8 <= end:
        file.seek(position)
        try:
            size, kind, header = _box_header(file.read(16), end - position)
        except _Overrun as overrun:
            if movie is None:
                raise
            raise Truncated(overrun.kind.decode("latin-1"), position + overrun.size, end) from None
        if movie is None:
            if kind != b"ftyp":
                raise NotISOBMFF("no ftyp box first")
            file.seek(position + header)
            movie = Movie(brand=file.read(4).decode("latin-1"), size=end)
        movie.top_level.append(kind.decode("latin-1"))
        if kind == b"moov" and moov is None:
            if size > MAX_MOOV_BYTES:
                raise NotISOBMFF(f"moov box of {size} bytes is implausibly large")
            file.seek(position + header)
            moov = file.read(size - header)
        position += size
    if movie is None:
        raise NotISOBMFF("empty file")
    if moov is not None:
        movie.tracks = [_track(trak) for trak in _children(moov, b"trak")]
    return movie


def _box_header(data: bytes, remaining: int) -> tuple[int, bytes, int]:
    if len(data) < 8:
        raise NotISOBMFF("truncated box header")
    size, kind = struct.unpack(">I4s", data[:8])
    header = 8
    if size == 1:
        if len(data) < 16:
            raise NotISOBMFF("truncated large box header")
        size = struct.unpack(">Q", data[8:16])[0]
        header = 16
    elif size == 0:
        size = remaining
    if size < header:
        raise NotISOBMFF(f"box {kind!r} of {size} bytes is smaller than its header")
    if size > remaining:
        raise _Overrun(kind, size)
    return size, kind, header


def _boxes(data: bytes) -> list[tuple[bytes, bytes]]:
    """(type, payload) of the boxes laid end to end in ``data``."""
    found = []
    position = 0
    while position + 8 <= len(data):
        size, kind, header = _box_header(data[position : position + 16], len(data) - position)
        found.append((kind, data[position + header : position + size]))
        position += size
    return found


def _children(data: bytes, kind: bytes) -> list[bytes]:
    return [payload for box_kind, payload in _boxes(data) if box_kind == kind]


def _find(data: bytes, *path: bytes) -> bytes | None:
    for kind in path:
        found = _children(data, kind)
        if not found:
            return None
        data = found[0]
    return data


def _track(trak: bytes) -> Track:
    hdlr = _find(trak, b"mdia", b"hdlr")
    track = Track(handler=hdlr[8:12].decode("latin-1") if hdlr and len(hdlr) >= 12 else "?")
    stbl = _find(trak, b"mdia", b"minf", b"stbl")
    if stbl is None:
        return track
    stsd = _find(stbl, b"stsd")
    if stsd is not None and len(stsd) >= 16:
        entries = _boxes(stsd[8:])  # after version/flags and entry_count
        if entries:
            kind, entry = entries[0]
            track.codec = kind.decode("latin-1")
            _read_sample_entry(track, entry)
    track.data_end = _data_end(stbl)
    ctts = _find(stbl, b"ctts")
    if ctts is not None and len(ctts) >= 8:
        count = struct.unpack(">I", ctts[4:8])[0]
        offsets = ctts[8 : 8 + 8 * count]
        track.has_composition_offsets = any(
            offsets[i + 4 : i + 8] != b"\x00\x00\x00\x00" for i in range(0, len(offsets), 8)
        )
    return track


def _data_end(stbl: bytes) -> int | None:
    """Where the samples of the last chunk end: its offset (stco, or co64) plus the
    sizes (stsz) of its samples, as many as stsc's last entry gives every chunk
    from its first on. None when a table is missing or does not add up."""
    offsets = _last_entries(stbl, b"stco", ">I", 1) or _last_entries(stbl, b"co64", ">Q", 1)
    stsc = _last_entries(stbl, b"stsc", ">III", 1)
    stsz = _find(stbl, b"stsz")
    if not offsets or not stsc or stsz is None or len(stsz) < 12:
        return None
    per_chunk = stsc[0][1]
    uniform, samples = struct.unpack(">II", stsz[4:12])
    if uniform:
        return offsets[0][0] + uniform * min(per_chunk, samples)
    sizes = _last_entries(stbl, b"stsz", ">I", per_chunk, header=12)
    if sizes is None or len(sizes) < per_chunk:
        return None
    return offsets[0][0] + sum(size for (size,) in sizes)


def _last_entries(
    stbl: bytes, kind: bytes, entry: str, wanted: int, header: int = 8
) -> list[tuple[int, ...]] | None:
    """The last ``wanted`` entries of a sample table box: a full box holding a
    count and then the entries. None when it is absent or shorter than it says."""
    box = _find(stbl, kind)
    if box is None or len(box) < header:
        return None
    count = struct.unpack(">I", box[header - 4 : header])[0]
    width = struct.calcsize(entry)
    if len(box) < header + count * width:
        return None
    first = header + max(0, count - wanted) * width
    return list(struct.iter_unpack(entry, box[first : header + count * width]))


def _read_sample_entry(track: Track, entry: bytes) -> None:
    if track.handler == "vide" and len(entry) >= 78:  # a VisualSampleEntry's fixed fields
        for kind, payload in _boxes(entry[78:]):
            if kind == b"avcC" and len(payload) >= 2:
                track.h264_profile = payload[1]
    elif track.handler == "soun" and len(entry) >= 28:
        for kind, payload in _boxes(entry[28:]):
            if kind == b"esds":
                track.audio_object_type = _esds_object_type(payload[4:])


def _esds_object_type(descriptors: bytes) -> int | None:
    """objectTypeIndication of the DecoderConfigDescriptor (tag 4) in an esds box."""
    try:
        return _walk_descriptors(descriptors)
    except IndexError:
        return None  # a truncated descriptor: the codec stays unknown


def _walk_descriptors(descriptors: bytes) -> int | None:
    position = 0
    while position < len(descriptors):
        tag = descriptors[position]
        position += 1
        length = 0
        for _ in range(4):  # expandable size: 7 bits a byte
            byte = descriptors[position]
            position += 1
            length = (length << 7) | (byte & 0x7F)
            if not byte & 0x80:
                break
        if tag == 0x03:  # ES_Descriptor: ES_ID(2), flags(1), optional fields
            flags = descriptors[position + 2]
            position += 3 + (2 if flags & 0x80 else 0) + (2 if flags & 0x20 else 0)
            if flags & 0x40:
                position += 1 + descriptors[position]
            continue
        if tag == 0x04:
            return descriptors[position] if position < len(descriptors) else None
        position += length
    return None
