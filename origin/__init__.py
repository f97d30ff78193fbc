"""media-origin: a link host for WhatsApp media messages sent by link."""

__version__ = "0.1.0"
