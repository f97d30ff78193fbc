import pytest

from origin.media_types import content_type_for
from origin.whatsapp import RULES, rule_for_name


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("voice.ogg", "audio/ogg; codecs=opus"),
        ("voice.opus", "audio/ogg; codecs=opus"),  # never audio/opus: Meta refuses it
        ("clip.3gp", "video/3gpp"),
        ("clip.mp4", "video/mp4"),
        ("sticker.webp", "image/webp"),
        ("track.m4a", "audio/mp4"),
        ("song.mp3", "audio/mpeg"),
        ("a.aac", "audio/aac"),
        ("a.amr", "audio/amr"),
        ("photo.JPG", "image/jpeg"),
        ("photo.jpeg", "image/jpeg"),
        ("logo.png", "image/png"),
        ("notes.txt", "text/plain"),
        ("report.pdf", "application/pdf"),
        ("letter.doc", "application/msword"),
        ("letter.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        ("sheet.xls", "application/vnd.ms-excel"),
        ("sheet.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        ("deck.ppt", "application/vnd.ms-powerpoint"),
        (
            "deck.pptx",
            "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        ),
        ("data.json", "application/json"),  # not WhatsApp's: Python's bundled table
        ("archive.tar.gz", "application/octet-stream"),
        ("README", "application/octet-stream"),
        ("x.unknownext", "application/octet-stream"),
    ],
)
def test_content_type_for(name, expected):
    assert content_type_for(name) == expected


def test_every_extension_belongs_to_one_rule():
    extensions = [ext for rule in RULES for ext in rule.extensions]
    assert len(extensions) == len(set(extensions))
    assert all(ext.startswith(".") and ext == ext.lower() for ext in extensions)


def test_rule_lookup():
    assert rule_for_name("a/b.c/sticker.WEBP").whatsapp_type == "sticker"
    assert rule_for_name("a.b/noext") is None
    assert rule_for_name("image.jpg").max_bytes == 5_000_000
