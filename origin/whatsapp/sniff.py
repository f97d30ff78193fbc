"""What a file really is, from its first bytes: the check Meta itself makes
("Mismatched MIME type (131053) is a common error"), and the check that keeps
active content (HTML, SVG, XML a browser would run script in) off the origin.

A small signature table for the kinds WhatsApp takes. libmagic would be the
general tool, but its MIME names differ from WhatsApp's and between its
versions, and it is a system library; the deep checks that follow use Pillow,
mutagen and the ISO-BMFF reader, which identify their formats themselves.

Markup is looked for only in bytes no signature claims. A real JPEG, MP4, PDF
or Ogg is binary data whose metadata or compressed stream may well contain
"<svg" or "<?xml" (XMP packets do): it is served under its media type with
``nosniff``, so no browser parses it as markup, and scanning it would refuse
good media. Bytes without a signature are read the way a browser could read
them (a BOM decides, else 8-bit, and UTF-16/UTF-32 when there are NUL bytes)
and scanned over the first ``HEAD_BYTES``: far past the 512 to 1,445 bytes
browsers sniff (WHATWG MIME Sniffing, section 7), so padding does not hide a
tag, yet bounded in time and memory.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

HEAD_BYTES = 256 * 1024  # what callers read for sniff(): signatures and the markup scan

OLE2 = "application/x-ole-storage"  # .doc, .xls and .ppt all share this container
HTML = "text/html"
SVG = "image/svg+xml"
XML = "application/xml"
TEXT = "text/plain"
ACTIVE = frozenset({HTML, SVG, XML})  # what the markup scan reports; all script-capable

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
    Bytes no signature claims are HTML, SVG or XML when ``find_markup`` finds
    markup in them, else text/plain when they are text.
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
        audio = _mpeg_audio(head[1])
        if audio is not None:  # else not audio: FF FE is also UTF-16's byte order mark
            return audio
    markup = find_markup(head)
    if markup is not None:
        return markup.content_type
    return TEXT if _is_text(head) else None


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
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return "application/zip"
    for prefix, mime in _ZIP_MEMBERS:
        if any(name.startswith(prefix) for name in names):
            return mime
    return "application/zip"


# The markup scan.

_BOMS = (  # UTF-32-LE's BOM begins with UTF-16-LE's: longest first
    (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\xef\xbb\xbf", "utf-8"),
    (b"\xfe\xff", "utf-16-be"),
    (b"\xff\xfe", "utf-16-le"),
)
_WIDE_ENCODINGS = ("utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be")
LONGEST_CHARACTER = 4  # bytes, in UTF-8, UTF-16 (a surrogate pair) and UTF-32
EIGHT_BIT = "8-bit"  # ASCII-compatible: UTF-8, Latin-1, Windows-125x, ...

# Elements that run script, load another document or plug-in, switch the parser
# into SVG or MathML, retarget the page's URLs or post its forms: any of them
# makes text a page a browser would act on. Matched with any namespace prefix
# (<h:script> in an XML document is XHTML's script).
ACTIVE_ELEMENTS = (
    "svg",  # first: the one that makes the text SVG rather than HTML
    "applet",
    "base",
    "body",
    "embed",
    "form",
    "frame",
    "frameset",
    "head",
    "html",
    "iframe",
    "link",
    "math",
    "meta",
    "object",
    "portal",
    "script",
    "style",
)
# Namespaces whose elements a browser renders, scripts included, in any XML document.
ACTIVE_NAMESPACES = (
    "http://www.w3.org/1999/xhtml",
    "http://www.w3.org/2000/svg",
    "http://www.w3.org/1998/math/mathml",
    "http://www.w3.org/1999/xsl/transform",
)
# WHATWG MIME Sniffing 7.1, the "text/html" patterns: what may open a text that a
# browser then sniffs as HTML (after whitespace, and followed by a space or ">").
LEADING_HTML = (
    b"<!doctype html",
    b"<html",
    b"<head",
    b"<script",
    b"<iframe",
    b"<h1",
    b"<div",
    b"<font",
    b"<table",
    b"<a",
    b"<style",
    b"<title",
    b"<b",
    b"<body",
    b"<br",
    b"<p",
)
_HTML_SPACE = b" \t\n\x0c\r"
_SHOWN = str.maketrans({"\t": "\\t", "\n": "\\n", "\r": "\\r", "\x0c": "\\f"})


def _element(names: str) -> re.Pattern[bytes]:
    """A start tag of one of ``names`` (a regex alternation), with or without a
    namespace prefix; "<" is kept out of the prefix so that a run of "<a<a<a"
    is read in linear time."""
    return re.compile(rb"<(?:[a-z][^\s/>\x00:<]*:)?(?:" + names.encode() + rb")(?=[\s/>]|\Z)")


def _spelt(word: str) -> bytes:
    """A regex for ``word`` as an attribute value may spell it to a browser: each
    character itself or a character reference (either case: the text is
    lower-cased), with tabs and newlines anywhere between (URL parsers drop them)."""
    noise = rb"(?:[\t\n\r]|&(?:tab|newline);)*"
    characters = []
    for character in word:
        codes = {ord(character), ord(character.upper())}
        decimal = b"|".join(str(code).encode() for code in sorted(codes))
        hexadecimal = b"|".join(f"{code:x}".encode() for code in sorted(codes))
        named = rb"|&colon;" if character == ":" else b""
        characters.append(
            rb"(?:" + re.escape(character.encode()) + rb"|&#0*(?:" + decimal + rb");?"
            rb"|&#x0*(?:" + hexadecimal + rb");?" + named + rb")"
        )
    return noise.join(characters)


# (pattern, what it makes the text), searched in the lower-cased text; the
# earliest match anywhere is the finding.
_ACTIVE_MARKUP: tuple[tuple[re.Pattern[bytes], str], ...] = (
    (_element("|".join(ACTIVE_ELEMENTS)), HTML),
    (re.compile(rb"<xsl:[a-z]"), XML),
    (re.compile(rb"<!doctype\s+html"), HTML),
    (re.compile(rb"<!doctype\s+svg"), SVG),
    (re.compile(rb"<\?xml-stylesheet"), XML),
    (
        re.compile(
            rb"xmlns(?::[^\s=>]+)?\s*=\s*[\"']?\s*(?:"
            + "|".join(re.escape(uri) for uri in ACTIVE_NAMESPACES).encode()
            + rb")"
        ),
        XML,
    ),
)
# Searched only after the first start tag ("<" and a letter): an event handler
# attribute, and a URL that runs script when followed.
_START_TAG = re.compile(rb"<[a-z]")
_EVENT_HANDLER = re.compile(rb"[\s/\"']on[a-z]+\s*=")
_SCRIPT_URL = re.compile(
    b"|".join(_spelt(scheme) for scheme in ("javascript:", "vbscript:", "data:text/html"))
)


@dataclass(frozen=True, slots=True)
class Markup:
    """Markup a browser would act on, found in bytes that no media signature claims."""

    content_type: str  # HTML, SVG or XML
    evidence: str  # what was found, lower-cased: "<script", "onerror=", "<?xml"
    offset: int  # where: a byte offset in 8-bit text, else a character offset
    encoding: str  # how the bytes were read: EIGHT_BIT, "utf-16-le", ...

    def describe(self) -> str:
        """'<script at byte 1,204', or '... at character 602 of the utf-16-le text'."""
        where = (
            f"byte {self.offset:,}"
            if self.encoding == EIGHT_BIT
            else f"character {self.offset:,} of the {self.encoding} text"
        )
        return f"{self.evidence} at {where}"


def find_markup(head: bytes) -> Markup | None:
    """HTML, SVG or XML in the first ``HEAD_BYTES`` of ``head``, read in every way
    a browser might read them."""
    for encoding, view in _readings(head[:HEAD_BYTES]):
        found = _scan(view.lower())
        if found is not None:
            content_type, evidence, offset = found
            return Markup(content_type, evidence, offset, encoding)
    return None


def _readings(head: bytes) -> list[tuple[str, bytes]]:
    """(encoding, ASCII view): a BOM decides alone, as it does in browsers; else
    the bytes as 8-bit text, and as UTF-16/UTF-32 when they hold NUL bytes (ASCII
    in those has them). A wide text's view has one byte per character, the
    character itself if ASCII, "?" if not, so one set of patterns serves every
    reading and offsets count characters."""
    for bom, encoding in _BOMS:
        if head.startswith(bom):
            if encoding == "utf-8":
                return [(EIGHT_BIT, head)]
            return [(encoding, _ascii_view(head[len(bom) :], encoding))]
    readings = [(EIGHT_BIT, head)]
    if b"\x00" in head:
        readings += [(encoding, _ascii_view(head, encoding)) for encoding in _WIDE_ENCODINGS]
    return readings


def _ascii_view(data: bytes, encoding: str) -> bytes:
    return data.decode(encoding, "replace").encode("ascii", "replace")


def _scan(text: bytes) -> tuple[str, str, int] | None:
    """(type, evidence, offset) of the earliest active markup in lower-cased ``text``."""
    findings = []
    for pattern, content_type in _ACTIVE_MARKUP:
        if (match := pattern.search(text)) is not None:
            svg = content_type == HTML and match.group(0).endswith(b"svg")
            findings.append((SVG if svg else content_type, match.group(0), match.start()))
    if (tag := _START_TAG.search(text)) is not None:
        if (match := _EVENT_HANDLER.search(text, tag.start())) is not None:
            findings.append((HTML, match.group(0)[1:], match.start() + 1))
        if (match := _SCRIPT_URL.search(text, tag.start())) is not None:
            findings.append((HTML, match.group(0), match.start()))
    found = min(findings, key=lambda finding: finding[2]) if findings else _leading_markup(text)
    if found is None:
        return None
    content_type, evidence, offset = found
    return content_type, evidence.decode("latin-1").translate(_SHOWN), offset


def _leading_markup(text: bytes) -> tuple[str, bytes, int] | None:
    """What a browser sniffing the start would take for HTML or XML (WHATWG 7.1)."""
    start = len(text) - len(text.lstrip(_HTML_SPACE))
    opening = text[start:]
    if opening.startswith(b"<!--"):
        return HTML, b"<!--", start
    if opening.startswith(b"<?xml"):
        return XML, b"<?xml", start
    for pattern in LEADING_HTML:
        follower = opening[len(pattern) : len(pattern) + 1]
        if opening.startswith(pattern) and follower in (b" ", b">"):
            return HTML, pattern, start
    return None


def _is_text(head: bytes) -> bool:
    """UTF-8 without NUL (a character cut at the end allowed), or UTF-16/32 with its BOM."""
    for bom, encoding in _BOMS:
        if head.startswith(bom) and encoding != "utf-8":
            return _decodes(head[len(bom) :], encoding)
    if b"\x00" in head:
        return False
    return _decodes(head.removeprefix(b"\xef\xbb\xbf"), "utf-8")


def _decodes(data: bytes, encoding: str) -> bool:
    """Whether ``data`` is text in ``encoding``; the head of a file may end in the
    middle of a character."""
    try:
        data.decode(encoding)
    except UnicodeDecodeError as error:
        return error.start >= len(data) - LONGEST_CHARACTER
    return True


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
