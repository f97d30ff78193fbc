"""Real media files for the WhatsApp rules, made at test time: images with Pillow,
audio and video with ffmpeg (installed by .ci/run), the rest by hand."""

from __future__ import annotations

import io
import os
import random
import shutil
import struct
import subprocess
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

from PIL import Image

FFMPEG = shutil.which("ffmpeg")


def image(path: Path, mode: str = "RGB", size=(64, 48), fmt: str | None = None, **save) -> None:
    Image.new(mode, size, color=_color(mode)).save(path, format=fmt, **save)


def _color(mode: str):
    return {"RGB": (37, 211, 102), "RGBA": (37, 211, 102, 255), "CMYK": (80, 0, 60, 0)}.get(
        mode, 128
    )


def encoded(mode: str = "RGB", size=(40, 30), fmt: str = "JPEG", color=None) -> bytes:
    """An image's bytes, made in memory."""
    buffer = io.BytesIO()
    Image.new(mode, size, color if color is not None else _color(mode)).save(buffer, format=fmt)
    return buffer.getvalue()


def noise_image(path: Path, size: tuple[int, int], fmt: str, **save) -> None:
    """Random pixels do not compress: a way to make a file of a given order of size."""
    Image.frombytes("RGB", size, os.urandom(size[0] * size[1] * 3)).save(path, format=fmt, **save)


def rotated_jpeg(path: Path) -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: rotate 90 CW
    Image.new("RGB", (64, 48), (1, 2, 3)).save(path, format="JPEG", exif=exif)


def png_16_bit(path: Path) -> None:
    Image.new("I;16", (32, 32), 1000).save(path, format="PNG")


def animated_webp(path: Path, size=(512, 512)) -> None:
    frames = [Image.new("RGBA", size, (i * 40, 0, 0, 255)) for i in range(3)]
    frames[0].save(path, format="WEBP", save_all=True, append_images=frames[1:], duration=100)


def heavy_animated_webp(path: Path) -> None:
    frames = [Image.frombytes("RGB", (512, 512), os.urandom(512 * 512 * 3)) for _ in range(3)]
    frames[0].save(path, format="WEBP", save_all=True, append_images=frames[1:], lossless=True)


def ffmpeg(path: Path, *arguments: str) -> None:
    if FFMPEG is None:
        raise RuntimeError("ffmpeg is not installed")
    subprocess.run([FFMPEG, "-v", "error", "-y", *arguments, str(path)], check=True, timeout=120)


VIDEO_IN = ("-f", "lavfi", "-i", "testsrc=size=320x240:rate=25")
AUDIO_IN = ("-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100")
H264_MAIN = ("-c:v", "libx264", "-profile:v", "main", "-bf", "0", "-pix_fmt", "yuv420p")


def mp4(
    path: Path, *codec: str, faststart: bool = True, audio: int = 1, video: bool = True
) -> None:
    inputs: list[str] = [*VIDEO_IN] if video else []
    for _ in range(audio):
        inputs += AUDIO_IN
    maps: list[str] = ["-map", "0:v"] if video else []
    first_audio = 1 if video else 0
    for index in range(audio):
        maps += ["-map", f"{first_audio + index}:a"]
    flags = ["-movflags", "+faststart"] if faststart else []
    ffmpeg(path, *inputs, *maps, "-t", "1", *codec, *flags)


def amr(path: Path) -> None:
    """An AMR-NB file: the magic and a few 12.2 kbit/s frames of silence."""
    path.write_bytes(b"#!AMR\n" + (b"\x3c" + b"\x00" * 31) * 10)


def office(path: Path, folder: str) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr(f"{folder}/document.xml", "<document/>")
    path.write_bytes(buffer.getvalue())


def pdf(path: Path) -> None:
    path.write_bytes(b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")


Builder = Callable[[Path], None]


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_claiming(width: int, height: int, idat: bytes | None = None) -> bytes:
    """A small PNG, every chunk's CRC right, whose header claims ``width`` x
    ``height`` 8-bit RGB pixels: the shape of a decompression bomb (its IDAT would
    inflate to the claim), or with ``idat`` given, of a corrupt image."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", zlib.compress(bytes(1000)) if idat is None else idat)
        + png_chunk(b"IEND", b"")
    )


def jpeg_claiming(width: int, height: int) -> bytes:
    """A JPEG's first segments, with a SOF0 frame of ``width`` x ``height``."""
    sof = b"\xff\xc0\x00\x11\x08" + struct.pack(">HH", height, width) + b"\x03" + bytes(9)
    return b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + sof


def webp_claiming(width: int, height: int) -> bytes:
    """A VP8X WebP header whose canvas is ``width`` x ``height``."""
    canvas = (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
    chunk = b"VP8X" + struct.pack("<I", 10) + bytes(4) + canvas
    return b"RIFF" + struct.pack("<I", 4 + len(chunk)) + b"WEBP" + chunk


def noise(mode: str = "RGB", size=(96, 64), fmt: str = "JPEG", **save) -> bytes:
    """Random pixels, encoded in memory: most of the bytes are image data, so a
    cut anywhere past the header lands in it."""
    buffer = io.BytesIO()
    channels = len(mode)
    # Seeded, not os.urandom: a cut fixture must be the same file on every run
    # (with some random draws a JPEG without its EOI still decoded whole).
    pixels = random.Random(f"{mode}{size}{fmt}{save}").randbytes(size[0] * size[1] * channels)
    Image.frombytes(mode, size, pixels).save(buffer, format=fmt, **save)
    return buffer.getvalue()


def jpeg_with_comment(text: bytes) -> bytes:
    """A valid JPEG whose COM segment holds ``text``, right after SOI."""
    body = encoded()
    return body[:2] + b"\xff\xfe" + struct.pack(">H", len(text) + 2) + text + body[2:]


def cut(data: bytes, fraction: float = 0.5) -> bytes:
    """The first ``fraction`` of the bytes: an upload that stopped part-way."""
    return data[: int(len(data) * fraction)]
