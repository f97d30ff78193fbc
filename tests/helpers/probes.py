"""What a converted file really is, read back with ffprobe and Pillow, so that a
test asserts on the output and not on what the product says about it."""

from __future__ import annotations

import json
import struct
import subprocess
from pathlib import Path
from typing import Any

from PIL import Image


def probe(path: Path) -> dict[str, Any]:
    output = subprocess.run(
        [
            "ffprobe",
            "-v",
            "error",
            "-print_format",
            "json",
            "-show_streams",
            "-show_format",
            str(path),
        ],
        capture_output=True,
        check=True,
        timeout=60,
    ).stdout
    return json.loads(output)


def streams(path: Path, kind: str) -> list[dict[str, Any]]:
    """The streams of ``kind`` ("video", "audio"), cover art left out."""
    return [
        stream
        for stream in probe(path).get("streams", [])
        if stream.get("codec_type") == kind
        and not stream.get("disposition", {}).get("attached_pic")
    ]


def b_frame_count(path: Path) -> int:
    """B-frames counted by decoding, frame by frame: authoritative."""
    output = subprocess.run(
        [
            "ffprobe",
            "-v",
            "error",
            "-select_streams",
            "v:0",
            "-show_entries",
            "frame=pict_type",
            "-of",
            "csv=p=0",
            str(path),
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout
    return sum(line.strip() == "B" for line in output.splitlines())


def moov_before_mdat(path: Path) -> bool:
    """Whether the top-level moov box comes before mdat."""
    order = []
    with path.open("rb") as file:
        while header := file.read(8):
            if len(header) < 8:
                break
            size, kind = struct.unpack(">I4s", header)
            if size == 1:
                size = struct.unpack(">Q", file.read(8))[0] - 8
            elif size == 0:
                order.append(kind)
                break
            order.append(kind)
            file.seek(size - 8, 1)
    return b"moov" in order and (
        b"mdat" not in order or order.index(b"moov") < order.index(b"mdat")
    )


def image_facts(path: Path) -> dict[str, Any]:
    with Image.open(path) as picture:
        transparent = False
        if picture.mode in ("RGBA", "LA") or "transparency" in picture.info:
            transparent = picture.convert("RGBA").getchannel("A").getextrema()[0] < 255
        return {
            "format": picture.format,
            "mode": picture.mode,
            "size": picture.size,
            "is_animated": getattr(picture, "is_animated", False),
            "n_frames": getattr(picture, "n_frames", 1),
            "exif_orientation": picture.getexif().get(0x0112),
            "has_transparency": transparent,
        }


def duration(path: Path) -> float:
    return float(probe(path)["format"]["duration"])
