import pytest

from origin.whatsapp.media_types import (
    SCRIPT_CAPABLE_EXTENSIONS,
    content_type_for,
    is_script_capable,
    script_capable_name,
)
from origin.whatsapp.rules import RULES, rule_for_name


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


@pytest.mark.parametrize(
    "content_type",
    [
        "text/html",
        "text/html; charset=utf-8",
        "application/xhtml+xml",
        "image/svg+xml",
        "application/xml",
        "text/xml",
        "application/rss+xml",
        "application/xslt+xml",
        "text/xsl",
        "application/javascript",
        "text/javascript",
        "application/ecmascript",
        "application/x-javascript",
        "TEXT/JavaScript",
        "text/css",
        "application/wasm",
        "application/x-shockwave-flash",
    ],
)
def test_script_capable_types(content_type):
    assert is_script_capable(content_type)


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/pdf", "application/json", "application/octet-stream", "image/png"],
)
def test_types_browsers_do_not_run(content_type):
    assert not is_script_capable(content_type)


@pytest.mark.parametrize(
    "name",
    [
        "app.js",
        "module.mjs",
        "page.html",
        "PAGE.HTML",
        "a/b/index.Htm",
        "drawing.svg",
        "feed.xml",
        "style.xsl",
        "style.xslt",  # octet-stream in Python 3.11's table, XSLT in others
        "page.xhtml",  # likewise
        "theme.css",
        "code.wasm",
        "movie.swf",
        "photo.jpg.html",
    ],
)
def test_names_served_as_script_are_active(name):
    assert script_capable_name(name)


@pytest.mark.parametrize(
    "name", ["photo.jpg", "page.html.jpg", "notes.txt", "data.json", "README", "a.html/b.pdf"]
)
def test_names_not_served_as_script(name):
    assert not script_capable_name(name)


def test_no_whatsapp_type_is_script_capable():
    for rule in RULES:
        assert not is_script_capable(rule.content_type), rule
        assert not any(script_capable_name("a" + ext) for ext in rule.extensions)
    assert all(ext == ext.lower() and ext.startswith(".") for ext in SCRIPT_CAPABLE_EXTENSIONS)
