import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from origin.whatsapp.media_types import is_script_capable
from origin.whatsapp.sniff import (
    _SIGNATURES,
    ACTIVE,
    EIGHT_BIT,
    HEAD_BYTES,
    HTML,
    OLE2,
    SVG,
    XML,
    find_markup,
    same_kind,
    sniff,
)


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


# Active markup: found wherever a browser would act on it, in any reading of the bytes.

PAGE = "<html><body><script>alert(document.domain)</script></body></html>"
SVG_DOCUMENT = "<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>"

MARKUP = [
    # (bytes, type, evidence, offset, encoding)
    (b"<html>" + b"x" * 10, HTML, "<html", 0, EIGHT_BIT),
    (b"<!--" + b"x" * 600 + b"-->\n<html>", HTML, "<html", 608, EIGHT_BIT),
    (b"\n\t <HTML><BODY>", HTML, "<html", 3, EIGHT_BIT),
    (b"<!DOCTYPE  html>", HTML, "<!doctype  html", 0, EIGHT_BIT),
    (b"notes\n<ScRiPt>alert(1)</ScRiPt>", HTML, "<script", 6, EIGHT_BIT),
    (PAGE.encode("utf-16"), HTML, "<html", 0, "utf-16-le"),
    (PAGE.encode("utf-16-be"), HTML, "<html", 0, "utf-16-be"),
    (PAGE.encode("utf-16-le"), HTML, "<html", 0, "utf-16-le"),
    (PAGE.encode("utf-32"), HTML, "<html", 0, "utf-32-le"),
    ("\ufeff<html>".encode(), HTML, "<html", 3, EIGHT_BIT),  # after the 3 bytes of its BOM
    ("café <html>".encode("latin-1"), HTML, "<html", 5, EIGHT_BIT),  # not UTF-8: still read
    (b"Hello <img src=x onerror=alert(1)>", HTML, "onerror=", 17, EIGHT_BIT),
    (b"Hello <img alt='>' onerror=alert(1)>", HTML, "onerror=", 19, EIGHT_BIT),
    (b"<img/src='x'/onload=alert(1)>", HTML, "onload=", 13, EIGHT_BIT),
    (b"<a href='javascript:alert(1)'>", HTML, "javascript:", 9, EIGHT_BIT),
    (b"<a href='jav&#x61;script:alert(1)'>", HTML, "jav&#x61;script:", 9, EIGHT_BIT),
    (b"<a href='java\tscript:alert(1)'>", HTML, "java\\tscript:", 9, EIGHT_BIT),
    (b"<a href=VBScript:msgbox>", HTML, "vbscript:", 8, EIGHT_BIT),
    (b"<iframe src=//evil>", HTML, "<iframe", 0, EIGHT_BIT),
    (b"<object data=x.swf>", HTML, "<object", 0, EIGHT_BIT),
    (b"<form action=//evil><input name=password>", HTML, "<form", 0, EIGHT_BIT),
    (b"<b>bold</b> text", HTML, "<b", 0, EIGHT_BIT),  # WHATWG: sniffed as HTML
    (b"<!-- a comment, then text", HTML, "<!--", 0, EIGHT_BIT),
    (b" " * 1100 + SVG_DOCUMENT.encode(), SVG, "<svg", 1100, EIGHT_BIT),
    (b"<?xml version='1.0'?>\n" + SVG_DOCUMENT.encode(), SVG, "<svg", 22, EIGHT_BIT),
    (b"<!DOCTYPE svg PUBLIC '-//W3C//DTD SVG 1.1//EN'>", SVG, "<!doctype svg", 0, EIGHT_BIT),
    (b"<?xml version='1.0'?><feed/>", XML, "<?xml", 0, EIGHT_BIT),
    (b"<?xml-stylesheet href='x.xsl'?><data/>", XML, "<?xml-stylesheet", 0, EIGHT_BIT),
    (b"<xsl:stylesheet version='1.0'>", XML, "<xsl:s", 0, EIGHT_BIT),
    (b"<d xmlns:h='http://www.w3.org/1999/xhtml'>", XML, None, 3, EIGHT_BIT),
    (b"<d xmlns:x='urn:x'><x:script>1</x:script></d>", HTML, "<x:script", 19, EIGHT_BIT),
]


@pytest.mark.parametrize(
    ("head", "content_type", "evidence", "offset", "encoding"),
    MARKUP,
    ids=[f"{i}-{case[2]}" for i, case in enumerate(MARKUP)],
)
def test_markup_is_found_with_where(head, content_type, evidence, offset, encoding):
    markup = find_markup(head)
    assert markup is not None
    assert (markup.content_type, markup.offset, markup.encoding) == (content_type, offset, encoding)
    if evidence is not None:
        assert markup.evidence == evidence
    assert sniff(head) == content_type
    assert is_script_capable(content_type)


TEXT_NOT_MARKUP = [
    "plain text, ünïcode\n",
    "3 < 4 and 5 > 2; x<y; a <= b\n",
    "From: Someone <someone@example.com>\nTo: <x@y.z>\n",  # angle brackets, no markup
    "Dear <Name>, your order <number> ships today\n",
    "if (a.onload == null) { run(); }  // code, no tag\n",
    "online=true\nonce = 1\n",  # "on..." assignments, but no tag before them
    "<3 you\n",
    "<rss><channel/></rss>",  # XML without a prolog or an active namespace: inert
    "alert(document.cookie)",  # script without markup: only its name can make it run
]


@pytest.mark.parametrize("text", TEXT_NOT_MARKUP)
def test_text_that_only_looks_like_markup_is_text(text):
    assert find_markup(text.encode()) is None
    assert sniff(text.encode()) == "text/plain"


def test_text_with_a_bom_is_text():
    assert sniff("plain text, ünïcode".encode("utf-16")) == "text/plain"
    assert sniff("plain text, ünïcode".encode("utf-32")) == "text/plain"
    assert sniff("plain text".encode("utf-16-le")) is None  # no BOM: not a text Meta reads


MEDIA_WITH_MARKUP_INSIDE = [
    (b"\xff\xd8\xff\xfe\x00\x20<svg onload=alert(1)><script>", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\x10tEXt<html><script>", "image/png"),
    (b"%PDF-1.7\n<?xpacket?><x:xmpmeta><html><script>alert(1)", "application/pdf"),
    (b"OggS\x00\x02" + b"\x00" * 20 + b"<script>alert(1)</script>", "audio/ogg"),
    (b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 8 + b"<?xml?><svg>", "video/mp4"),
    (b"ID3\x04\x00\x00\x00\x00\x00\x20TIT2<html>", "audio/mpeg"),
    (b"RIFF\x10\x00\x00\x00WEBPVP8X<svg onload=x>", "image/webp"),
]


@pytest.mark.parametrize(("head", "expected"), MEDIA_WITH_MARKUP_INSIDE)
def test_media_a_signature_claims_is_never_scanned_for_markup(head, expected):
    """Binary media holds "<svg" and "<?xml" in its metadata (XMP packets do): it
    is served under its own type with nosniff, so it is never markup."""
    assert sniff(head) == expected


PROSE = st.characters(blacklist_categories=("Cs",), blacklist_characters="<&")


@given(
    padding=st.sampled_from([b"", b" " * 700, b"<!-- " + b"-" * 2000 + b" -->", b"\n" * 5000]),
    markup=st.sampled_from([PAGE, SVG_DOCUMENT, "<img src=x onerror=alert(1)>"]),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "utf-32"]),
    prose=st.text(alphabet=PROSE, max_size=300),
)
def test_markup_is_found_whatever_comes_before_it(padding, markup, encoding, prose):
    text = padding.decode() + prose + markup
    found = find_markup(text.encode(encoding))
    assert found is not None
    assert found.content_type in (HTML, SVG)


@given(st.binary(max_size=2000))
def test_sniff_takes_any_bytes(head):
    result = sniff(head)
    assert result is None or "/" in result


@given(
    st.sampled_from([signature for _, signature, _ in _SIGNATURES]),
    st.binary(max_size=500),
    st.sampled_from([b"", PAGE.encode(), SVG_DOCUMENT.encode()]),
)
def test_bytes_a_signature_claims_are_never_active(signature, filler, markup):
    assert sniff(signature + filler + markup) not in ACTIVE


def test_the_scan_is_bounded_in_time():
    """A hostile head of many tags, attributes or angle brackets is read in
    linear time: the whole window well under a second."""
    for head in (
        b"<a " * HEAD_BYTES,
        b"<a" * HEAD_BYTES,
        b"<" * HEAD_BYTES,
        b"\x00<a" * HEAD_BYTES,
    ):
        started = time.monotonic()
        find_markup(head[:HEAD_BYTES])
        assert time.monotonic() - started < 1.0
