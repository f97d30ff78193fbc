"""Content-Type of a stored file: WhatsApp's table first, then Python's own table;
and which served types a browser would run script in.

The fallback is a ``MimeTypes()`` built from Python's bundled defaults only, not
from /etc/mime.types or the Windows registry, so every instance of the origin
sends the same Content-Type for the same name whatever machine it runs on.
"""

from __future__ import annotations

import mimetypes

from origin.whatsapp.rules import rule_for_name

FALLBACK_CONTENT_TYPE = "application/octet-stream"

_BUNDLED_TYPES = mimetypes.MimeTypes(filenames=())

# Served types a browser runs script in, or treats as code for a page that links
# them: the origin never stores a file it would serve as one of these (the
# upload API refuses it even with ?force=true). The names follow the WHATWG MIME
# Sniffing standard's groups (section 4.6, "MIME type groups"), where it has them:
#
# * "HTML MIME type" and "XML MIME type": rendered as documents, with scripts.
#   Any XML document may hold XHTML- or SVG-namespaced elements (<h:script>) and
#   an <?xml-stylesheet?> that runs XSLT, so every XML type counts, including
#   any ``+xml`` type (image/svg+xml, application/xhtml+xml, application/xslt+xml,
#   application/rss+xml, ...); text/xsl is the legacy label of XSLT.
# * "JavaScript MIME type": the full list, because a page that allows scripts
#   from this origin (a CSP naming the CDN, a service worker) runs any of them.
# * text/css: a stylesheet is code for the page that links it (CSS injection
#   reads attribute values out through selectors); never media.
# * application/wasm: WebAssembly is compiled and run only under that type.
# * application/x-shockwave-flash and text/xul: plug-in and browser technologies
#   that are gone, listed because refusing them costs nothing.
#
# Left out on purpose: application/pdf (a WhatsApp document type; PDF viewers
# run its scripts in their own sandbox, not in this origin), application/json
# and text/plain (never run as script when sent with X-Content-Type-Options:
# nosniff, which the origin always sends).
HTML_TYPES = frozenset({"text/html"})
XML_TYPES = frozenset({"text/xml", "application/xml", "text/xsl"})
JAVASCRIPT_TYPES = frozenset(
    {
        "application/ecmascript",
        "application/javascript",
        "application/x-ecmascript",
        "application/x-javascript",
        "text/ecmascript",
        "text/javascript",
        "text/javascript1.0",
        "text/javascript1.1",
        "text/javascript1.2",
        "text/javascript1.3",
        "text/javascript1.4",
        "text/javascript1.5",
        "text/jscript",
        "text/livescript",
        "text/x-ecmascript",
        "text/x-javascript",
    }
)
OTHER_ACTIVE_TYPES = frozenset(
    {"text/css", "application/wasm", "application/x-shockwave-flash", "text/xul"}
)
SCRIPT_CAPABLE_TYPES = HTML_TYPES | XML_TYPES | JAVASCRIPT_TYPES | OTHER_ACTIVE_TYPES
XML_SUFFIX = "+xml"

# Extensions that some other MIME table (a newer Python's, nginx's, Apache's,
# a CDN's or an object store's) maps to a script-capable type even where this
# Python serves them as application/octet-stream: a file stored under one of
# these names would turn active the day the table changes. Lower case.
SCRIPT_CAPABLE_EXTENSIONS = frozenset(
    {
        ".htm",
        ".html",
        ".shtml",
        ".xht",
        ".xhtml",
        ".svg",
        ".svgz",
        ".xml",
        ".xsd",
        ".xsl",
        ".xslt",
        ".rss",
        ".atom",
        ".rdf",
        ".mml",
        ".xul",
        ".js",
        ".mjs",
        ".cjs",
        ".jsm",
        ".css",
        ".wasm",
        ".swf",
    }
)


def content_type_for(name: str) -> str:
    rule = rule_for_name(name)
    if rule is not None:
        return rule.content_type
    guessed, encoding = _BUNDLED_TYPES.guess_type(name, strict=False)
    if guessed is None or encoding is not None:
        # A ".tar.gz" guesses as tar with gzip *encoding*; serving it as
        # application/x-tar would mislabel the bytes actually sent.
        return FALLBACK_CONTENT_TYPE
    return guessed


def is_script_capable(content_type: str) -> bool:
    """Whether a browser given this Content-Type would run script in it or for a page."""
    essence = content_type.split(";", 1)[0].strip().lower()
    return essence in SCRIPT_CAPABLE_TYPES or essence.endswith(XML_SUFFIX)


def script_capable_name(name: str) -> bool:
    """Whether a file of this name is (or elsewhere would be) served as a script type.

    The served type decides; the extension list adds the names other MIME tables
    serve as script (``.xhtml`` is octet-stream in Python 3.11's table,
    application/xhtml+xml in nginx's). Case does not matter.
    """
    if is_script_capable(content_type_for(name)):
        return True
    base = name.rsplit("/", 1)[-1]
    dot = base.rfind(".")
    return dot > 0 and base[dot:].lower() in SCRIPT_CAPABLE_EXTENSIONS
