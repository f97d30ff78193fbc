"""What an image's header says about it, read from the bytes without Pillow.

The image checks need a few numbers before (or besides) decoding: the declared
width and height, so that a decompression bomb is named with its numbers before
any decoder allocates its canvas; a PNG's bit depth, which Pillow's mode hides
(a 16-bit RGB PNG opens as mode RGB); and a WebP's RIFF size, since libwebp
says of a cut file only "could not create decoder object".
"""

from __future__ import annotations

from pathlib import Path

from origin.whatsapp.sniff import HEAD_BYTES

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
RIFF_HEADER_BYTES = 12  # "RIFF", the size of what follows, "WEBP"

_JPEG_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}  # DHT, JPG and DAC are not frames
_JPEG_STANDALONE = frozenset({0x01, *range(0xD0, 0xD9)})  # TEM, RSTn, SOI: no length


def declared_dimensions(file: Path) -> tuple[int, int] | None:
    """Width and height as a PNG, JPEG or WebP header states them."""
    with file.open("rb") as handle:
        head = handle.read(HEAD_BYTES)
    if head[:8] == PNG_SIGNATURE and head[12:16] == b"IHDR" and len(head) >= 24:
        return int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return _webp_dimensions(head)
    if head[:3] == b"\xff\xd8\xff":
        return _jpeg_dimensions(head)
    return None


def _webp_dimensions(head: bytes) -> tuple[int, int] | None:
    """From the first chunk: extended (VP8X), lossless (VP8L) or lossy (VP8)."""
    chunk = head[12:16]
    if chunk == b"VP8X" and len(head) >= 30:
        return 1 + int.from_bytes(head[24:27], "little"), 1 + int.from_bytes(head[27:30], "little")
    if chunk == b"VP8L" and len(head) >= 25 and head[20] == 0x2F:
        bits = int.from_bytes(head[21:25], "little")
        return 1 + (bits & 0x3FFF), 1 + ((bits >> 14) & 0x3FFF)
    if chunk == b"VP8 " and len(head) >= 30 and head[23:26] == b"\x9d\x01\x2a":
        return (
            int.from_bytes(head[26:28], "little") & 0x3FFF,
            int.from_bytes(head[28:30], "little") & 0x3FFF,
        )
    return None


def _jpeg_dimensions(head: bytes) -> tuple[int, int] | None:
    """From the first SOFn segment, walking the segments before it."""
    position = 2
    while position + 9 <= len(head):
        if head[position] != 0xFF:
            return None
        marker = head[position + 1]
        if marker == 0xFF:  # fill byte
            position += 1
        elif marker in _JPEG_STANDALONE:
            position += 2
        elif marker in _JPEG_SOF:
            height = int.from_bytes(head[position + 5 : position + 7], "big")
            return int.from_bytes(head[position + 7 : position + 9], "big"), height
        else:
            position += 2 + int.from_bytes(head[position + 2 : position + 4], "big")
    return None


def png_bit_depth(file: Path) -> int | None:
    """The bit depth of IHDR, the chunk every PNG starts with."""
    with file.open("rb") as handle:
        header = handle.read(26)
    return header[24] if len(header) == 26 and header[12:16] == b"IHDR" else None


def riff_declared_size(file: Path) -> int | None:
    """The whole size a WebP's RIFF header counts (its 8 bytes included); None
    when the file is no RIFF WebP."""
    with file.open("rb") as handle:
        header = handle.read(RIFF_HEADER_BYTES)
    if len(header) < RIFF_HEADER_BYTES or header[:4] != b"RIFF" or header[8:12] != b"WEBP":
        return None
    return int.from_bytes(header[4:8], "little") + 8
