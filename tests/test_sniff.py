import pytest

from origin.sniff import OLE2, same_kind, sniff


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "image/jpeg"),
        (b"\x89PNG\r\n\x1a\n\x00", "image/png"),
        (b"RIFF\x10\x00\x00\x00WEBPVP8 ", "image/webp"),
        (b"GIF89a", "image/gif"),
        (b"%PDF-1.7", "application/pdf"),
        (b"OggS\x00\x02", "audio/ogg"),
        (b"#!AMR\n\x3c", "audio/amr"),
        (b"ID3\x04\x00", "audio/mpeg"),
        (b"\xff\xfb\x90\x00", "audio/mpeg"),
        (b"\xff\xf1\x50\x80", "audio/aac"),
        (b"\x00\x00\x00\x18ftypmp42", "video/mp4"),
        (b"\x00\x00\x00\x18ftyp3gp4", "video/3gpp"),
        (b"\x00\x00\x00\x18ftypM4A ", "audio/mp4"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", OLE2),
        (b"PK\x03\x04", "application/zip"),
        (b"\xef\xbb\xbf  <!DOCTYPE html><html>", "text/html"),
        (b"<html><body>Not Found</body></html>", "text/html"),
        (b"<?xml version='1.0'?><svg>", "image/svg+xml"),
        (b"<?xml version='1.0'?><feed/>", "application/xml"),
        ("plain text, ünïcode".encode(), "text/plain"),
        (b"\x00\x01\x02", None),
        (b"\x80\x81\x82\x83 abc def", None),
    ],
)
def test_sniff(head, expected):
    assert sniff(head) == expected


def test_same_kind():
    assert same_kind("audio/ogg; codecs=opus", "audio/ogg")
    assert same_kind("application/msword", OLE2)
    assert same_kind("audio/mp4", "video/mp4")
    assert not same_kind("image/jpeg", "image/webp")
    assert not same_kind("image/jpeg", None)
