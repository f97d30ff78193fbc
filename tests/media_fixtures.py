"""Real media files for the WhatsApp rules, made at test time: images with Pillow,
audio and video with ffmpeg (installed by .ci/run), the rest by hand."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import zipfile
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
