"""What a file really is, from its first bytes: the check Meta itself makes
("Mismatched MIME type (131053) is a common error").

A small signature table for the kinds WhatsApp takes and the kinds that must
never pass for media (HTML, SVG, XML). libmagic would be the general tool, but
its MIME names differ from WhatsApp's and between its versions, and it is a
system library; the deep checks that follow use Pillow, mutagen and the
ISO-BMFF reader, which identify their formats themselves.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

HEAD_BYTES = 4096

OLE2 = "application/x-ole-storage"  # .doc, .xls and .ppt all share this container
HTML = "text/html"
ACTIVE = frozenset({HTML, "image/svg+xml", "application/xml"})

_SIGNATURES: tuple[tuple[int, bytes, str], ...] = (
    (0, b"\xff\xd8\xff", "image/jpeg"),
    (0, b"\x89PNG\r\n\x1a\n", "image/png"),
    (0, b"GIF87a", "image/gif"),
    (0, b"GIF89a", "image/gif"),
    (0, b"%PDF-", "application/pdf"),
    (0, b"OggS", "audio/ogg"),
    (0, b"#!AMR-WB\n", "audio/amr-wb"),
    (0, b"#!AMR\n", "audio/amr"),
    (0, b"ID3", "audio/mpeg"),
    (0, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", OLE2),
    (0, b"\x1aE\xdf\xa3", "video/webm"),
)
_ZIP_MEMBERS = (
    ("word/", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    ("xl/", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ("ppt/", "application/vnd.openxmlformats-officedocument.presentationml.presentation"),
)


def sniff(head: bytes, path: Path | None = None) -> str | None:
    """The MIME type the bytes show, or None when they match nothing known.

    ``path`` lets a ZIP be looked into, to tell .docx, .xlsx and .pptx apart.
    """
    for offset, signature, mime in _SIGNATURES:
        if head[offset : offset + len(signature)] == signature:
            return mime
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[4:8] == b"ftyp":
        return _iso_brand(head[8:12])
    if head[:4] == b"PK\x03\x04":
        return _office(path) if path is not None else "application/zip"
    if len(head) >= 2 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0:
        return _mpeg_audio(head[1])
    return _markup_or_text(head)


def _iso_brand(brand: bytes) -> str:
    if brand.startswith((b"3gp", b"3g2")):
        return "video/3gpp"
    if brand in (b"M4A ", b"M4B "):
        return "audio/mp4"
    return "video/mp4"


def _mpeg_audio(second: int) -> str | None:
    layer = second & 0x06
    if layer == 0x00:
        return "audio/aac"  # ADTS: MPEG sync with layer bits 00
    if layer == 0x02:
        return "audio/mpeg"  # layer III
    return None


def _office(path: Path) -> str:
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, OSError):
        return "application/zip"
    for prefix, mime in _ZIP_MEMBERS:
        if any(name.startswith(prefix) for name in names):
            return mime
    return "application/zip"


def _markup_or_text(head: bytes) -> str | None:
    if b"\x00" in head:
        return None
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if text.startswith((b"<!doctype html", b"<html", b"<head", b"<body")) or b"<html" in text[:512]:
        return HTML
    if b"<svg" in text[:1024]:
        return "image/svg+xml"
    if text.startswith(b"<?xml"):
        return "application/xml"
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as error:
        if error.start < len(head) - 4:  # not just a character cut at the end
            return None
    return "text/plain"


def base_type(content_type: str) -> str:
    """``audio/ogg; codecs=opus`` -> ``audio/ogg``."""
    return content_type.split(";", 1)[0].strip().lower()


def same_kind(expected: str, actual: str | None) -> bool:
    """Whether bytes of type ``actual`` may honestly be served as ``expected``."""
    if actual is None:
        return False
    expected = base_type(expected)
    if actual == OLE2:
        return expected in (
            "application/msword",
            "application/vnd.ms-excel",
            "application/vnd.ms-powerpoint",
        )
    if expected == "audio/mp4" and actual == "video/mp4":
        return True  # many .m4a carry a generic brand; the tracks decide
    return expected == actual
