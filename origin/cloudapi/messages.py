"""The body of a send-media request, exactly as the Cloud API takes it, for a
stored file by its media ID or its link. Pure: ``media-origin whatsapp message``
prints it, and ``--send`` posts it as it was printed."""

from __future__ import annotations

from typing import Any

CAPTIONED = frozenset({"image", "video", "document"})  # audio and stickers take none
NAMED = frozenset({"document"})  # a document shows its file name


class MessageError(ValueError):
    """A body the API would refuse: said before anything is sent."""


def message_body(
    to: str,
    whatsapp_type: str,
    media_id: str | None,
    link: str | None,
    caption: str | None = None,
    filename: str | None = None,
) -> dict[str, Any]:
    """``{"messaging_product", "recipient_type", "to", "type", <type>: {id|link, ...}}``."""
    number = to.removeprefix("+").replace(" ", "").replace("-", "")
    if not number.isdigit() or not 7 <= len(number) <= 15:
        raise MessageError(f"--to {to} is not a phone number in international form (E.164)")
    if (media_id is None) == (link is None):
        raise MessageError("a message carries either a media ID or a link")
    media: dict[str, Any] = {"id": media_id} if media_id is not None else {"link": link}
    if caption:
        if whatsapp_type not in CAPTIONED:
            raise MessageError(f"WhatsApp shows no caption on {whatsapp_type}: leave --caption out")
        media["caption"] = caption
    if filename and whatsapp_type in NAMED:
        media["filename"] = filename
    return {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": number,
        "type": whatsapp_type,
        whatsapp_type: media,
    }
