"""The send-media body, by ID or by link, for each media type."""

import pytest

from origin.cloudapi.messages import MessageError, message_body


@pytest.mark.parametrize("kind", ["image", "video", "audio", "document", "sticker"])
def test_a_body_for_each_media_type_by_id_and_by_link(kind):
    by_id = message_body("+49 151-2345678", kind, "777", None)
    assert by_id == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "491512345678",
        "type": kind,
        kind: {"id": "777"},
    }
    by_link = message_body("491512345678", kind, None, "https://cdn.example.com/a")
    assert by_link[kind] == {"link": "https://cdn.example.com/a"}


def test_captions_where_whatsapp_shows_them_and_a_documents_file_name():
    body = message_body("491512345678", "document", "7", None, "Prices", "price-list.pdf")
    assert body["document"] == {"id": "7", "caption": "Prices", "filename": "price-list.pdf"}
    assert (
        "filename" not in message_body("491512345678", "image", "7", None, None, "a.jpg")["image"]
    )
    for kind in ("audio", "sticker"):
        with pytest.raises(MessageError, match="no caption"):
            message_body("491512345678", kind, "7", None, "hi")


@pytest.mark.parametrize("to", ["", "abc", "12", "+1234567890123456"])
def test_a_number_that_is_not_e164_is_refused(to):
    with pytest.raises(MessageError, match=r"E\.164"):
        message_body(to, "image", "7", None)


def test_exactly_one_of_id_and_link():
    with pytest.raises(MessageError):
        message_body("491512345678", "image", "7", "https://x/a")
    with pytest.raises(MessageError):
        message_body("491512345678", "image", None, None)
