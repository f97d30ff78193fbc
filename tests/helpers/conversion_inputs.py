"""Real inputs that WhatsApp refuses, or that need converting, made at test time
with ffmpeg and Pillow: browser and phone voice notes, iPhone and camera videos,
CMYK, 16-bit, rotated and oversized photos, sticker sources, and broken files.
Each builder writes ``path`` and returns it; each is small and quick to make."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

from PIL import Image

from tests.helpers import media as fx

SINE = ("-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000")
SMALL_VIDEO = ("-f", "lavfi", "-i", "testsrc=size=320x240:rate=25")


def _ffmpeg(path: Path, *arguments: str) -> Path:
    fx.ffmpeg(path, *arguments)
    return path


def webm_opus_voice(path: Path) -> Path:
    """A browser's recording (MediaRecorder): Opus in WebM, stereo."""
    return _ffmpeg(path, *SINE, "-t", "2", "-ac", "2", "-c:a", "libopus", "-f", "webm")


def stereo_wav(path: Path) -> Path:
    return _ffmpeg(path, *SINE, "-t", "2", "-ac", "2", "-ar", "44100", "-c:a", "pcm_s16le")


def amr_wb(path: Path) -> Path:
    """AMR-WB as phones record calls. ffmpeg here has no AMR-WB encoder, so the
    frames are written by hand: 6.60 kbit/s frames (type 0, 17 bytes) of silence,
    which ffmpeg's decoder reads as two seconds of 16 kHz mono."""
    path.write_bytes(b"#!AMR-WB\n" + (b"\x04" + bytes(17)) * 100)
    return path


def m4a_aac(path: Path) -> Path:
    """A phone's voice memo: AAC in M4A (fine as audio, not a voice note)."""
    return _ffmpeg(path, *SINE, "-t", "2", "-c:a", "aac", "-f", "ipod")


def stereo_ogg_opus(path: Path) -> Path:
    return _ffmpeg(path, *SINE, "-t", "2", "-ac", "2", "-c:a", "libopus", "-f", "ogg")


def ogg_vorbis(path: Path) -> Path:
    return _ffmpeg(path, *SINE, "-t", "2", "-c:a", "libvorbis", "-f", "ogg")


def flac_audio(path: Path) -> Path:
    return _ffmpeg(path, *SINE, "-t", "2", "-c:a", "flac")


def mov_hevc(path: Path) -> Path:
    """An iPhone's video: HEVC (hvc1) and AAC in QuickTime."""
    return _ffmpeg(
        path,
        *SMALL_VIDEO,
        *fx.AUDIO_IN,
        "-t",
        "1",
        "-c:v",
        "libx265",
        "-x265-params",
        "log-level=error",
        "-pix_fmt",
        "yuv420p",
        "-tag:v",
        "hvc1",
        "-c:a",
        "aac",
        "-f",
        "mov",
    )


def mp4_high_bframes(path: Path) -> Path:
    """A camera's MP4: H.264 High with B-frames."""
    return _ffmpeg(
        path,
        *SMALL_VIDEO,
        *fx.AUDIO_IN,
        "-t",
        "2",
        "-c:v",
        "libx264",
        "-profile:v",
        "high",
        "-bf",
        "3",
        "-pix_fmt",
        "yuv420p",
        "-c:a",
        "aac",
        "-movflags",
        "+faststart",
    )


def mp4_moov_at_end(path: Path) -> Path:
    """Every stream as WhatsApp wants, but moov after mdat: a remux fixes it."""
    return _ffmpeg(path, *SMALL_VIDEO, *fx.AUDIO_IN, "-t", "1", *fx.H264_MAIN, "-c:a", "aac")


def mp4_two_audio_streams(path: Path) -> Path:
    fx.mp4(path, *fx.H264_MAIN, "-c:a", "aac", audio=2)
    return path


def mp4_too_long_to_fit(path: Path, minutes: int = 14) -> Path:
    """Fourteen minutes (by default) of a tiny picture at 1 frame a second: quick
    to make, small on disk, and no bitrate above the floor fits 16 MB."""
    return _ffmpeg(
        path,
        "-f",
        "lavfi",
        "-i",
        "color=c=blue:size=64x48:rate=1",
        "-t",
        str(minutes * 60),
        "-c:v",
        "libx264",
        "-preset",
        "veryfast",
        "-bf",
        "2",
        "-profile:v",
        "high",
        "-pix_fmt",
        "yuv420p",
    )


def long_video(path: Path, seconds: int) -> Path:
    """A video whose conversion takes seconds: H.264 High with B-frames, 320x240."""
    return _ffmpeg(
        path,
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=320x240:rate=25",
        *fx.AUDIO_IN,
        "-t",
        str(seconds),
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-profile:v",
        "high",
        "-bf",
        "3",
        "-pix_fmt",
        "yuv420p",
        "-c:a",
        "aac",
        "-shortest",
    )


def cmyk_jpeg(path: Path) -> Path:
    fx.image(path, mode="CMYK", size=(64, 48), fmt="JPEG")
    return path


def png_16_bit_file(path: Path) -> Path:
    fx.png_16_bit(path)
    return path


def exif_rotated_jpeg(path: Path) -> Path:
    """64x48 stored, with an EXIF tag saying to turn it 90°: 48x64 upright."""
    fx.rotated_jpeg(path)
    return path


def heic_photo(path: Path) -> Path:
    """An iPhone's photo: HEIC, written by pillow-heif (a dependency: it is also
    what lets the conversion read one)."""
    from pillow_heif import register_heif_opener

    register_heif_opener()
    fx.noise_image(path, (400, 300), "HEIF", quality=80)
    return path


def webp_photo(path: Path) -> Path:
    fx.noise_image(path, (400, 300), "WEBP", quality=80)
    return path


def big_jpeg_8mb(path: Path) -> Path:
    """A camera JPEG over 8 MB: random pixels at quality 95 do not compress."""
    size = (2400, 1600)
    while True:
        fx.noise_image(path, size, "JPEG", quality=95)
        if path.stat().st_size > 8_000_000:
            return path
        size = (int(size[0] * 1.2), int(size[1] * 1.2))


def png_300_for_sticker(path: Path) -> Path:
    picture = Image.new("RGBA", (300, 300), (0, 0, 0, 0))
    picture.paste((37, 211, 102, 255), (50, 50, 250, 250))
    picture.save(path, format="PNG")
    return path


def animated_gif_for_sticker(path: Path) -> Path:
    frames = [Image.new("RGB", (200, 150), (i * 50, 100, 200 - i * 40)) for i in range(4)]
    frames[0].save(
        path, format="GIF", save_all=True, append_images=frames[1:], duration=120, loop=0
    )
    return path


def palette_png(path: Path) -> Path:
    fx.image(path, mode="P", size=(64, 48), fmt="PNG")
    return path


def la_png(path: Path) -> Path:
    picture = Image.new("LA", (64, 48), (128, 255))
    picture.putpixel((0, 0), (0, 0))  # one transparent pixel: it stays a PNG
    picture.save(path, format="PNG")
    return path


def static_gif(path: Path) -> Path:
    fx.image(path, mode="P", size=(64, 48), fmt="GIF")
    return path


def bmp_image(path: Path) -> Path:
    fx.image(path, size=(64, 48), fmt="BMP")
    return path


def tiff_image(path: Path) -> Path:
    fx.image(path, size=(64, 48), fmt="TIFF")
    return path


def corrupt_video(path: Path) -> Path:
    """A QuickTime name and an ftyp box, then bytes no decoder reads."""
    path.write_bytes(
        struct.pack(">I", 20) + b"ftypqt  \x00\x00\x02\x00qt  " + bytes(range(256)) * 40
    )
    return path


def corrupt_audio(path: Path) -> Path:
    path.write_bytes(b"RIFF\x24\x00\x00\x00WAVEjunk" + bytes(range(256)) * 20)
    return path


def decompression_bomb_png(path: Path) -> Path:
    """30000x30000 grey pixels (900 megapixels, 900 MB decoded) in a few hundred KB:
    the rows really are there, zlib-compressed zeros."""
    width = height = 30000
    compressor = zlib.compressobj(9)
    row = bytes(width + 1)  # filter byte and a row of zeros
    data = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + fx.png_chunk(b"IHDR", header)
        + fx.png_chunk(b"IDAT", data)
        + fx.png_chunk(b"IEND", b"")
    )
    return path
