"""origin/upload/results.py: the exact fields of an upload's answer and of a
listing's entry (the public contract), and the status an upload answers with."""

from origin.upload.results import Listed, Stored, stored_status
from origin.whatsapp.problems import WARNING, Problem

STORED = Stored(
    path="/stickers/s.webp",
    url="https://media.example.com/stickers/s.webp",
    versioned_url="https://media.example.com/stickers/s.webp?v=0123456789ab",
    size=1234,
    content_type="image/webp",
    whatsapp_type="sticker",
    etag='"abc"',
    last_modified="Wed, 02 Dec 2026 06:00:00 GMT",
    warnings=[Problem("sticker_dimensions", WARNING, "512x512")],
    replaced=False,
)


def test_an_upload_answer_has_its_fields_in_order_and_never_replaced():
    body = STORED.to_json()
    assert list(body) == [
        "path",
        "url",
        "versioned_url",
        "size",
        "content_type",
        "whatsapp_type",
        "etag",
        "last_modified",
        "warnings",
    ]
    assert body["warnings"] == [
        {"code": "sticker_dimensions", "level": "warning", "message": "512x512"}
    ]
    signed = Stored(**{**STORED.__dict__, "signed_url": "https://x/s.webp?sig"}).to_json()
    assert list(signed)[-1] == "signed_url" and signed["signed_url"] == "https://x/s.webp?sig"


def test_an_upload_answers_200_only_when_every_file_replaced_one():
    replaced = Stored(**{**STORED.__dict__, "replaced": True})
    assert stored_status([replaced]) == 200
    assert stored_status([replaced, STORED]) == 201
    assert stored_status([STORED]) == 201


def test_a_listing_entry_says_error_only_when_there_is_one():
    entry = Listed("/a.jpg", 3, "image/jpeg", "image", None, "Wed, 02 Dec 2026 06:00:00 GMT")
    assert list(entry.to_json()) == [
        "path",
        "size",
        "content_type",
        "whatsapp_type",
        "etag",
        "last_modified",
    ]
    failed = Listed(**{**entry.__dict__, "error": "the file kept changing"}).to_json()
    assert failed["error"] == "the file kept changing"
