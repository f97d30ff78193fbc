"""What every console answer carries, so that its pages can be neither framed,
cached (by a browser or by the CDN in front), sniffed, nor made to run script
from anywhere but the console's own files."""

from __future__ import annotations

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",  # the console's own files: no inline script, no eval
        "style-src 'self'",
        "img-src 'self' data: blob:",
        "media-src 'self' blob:",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
    ]
)
CONSOLE_HEADERS = {
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "x-frame-options": "DENY",
    "cache-control": "no-store",
    "cdn-cache-control": "no-store",  # RFC 9213: the CDN too, whatever it makes of the rest
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
}
