"""The WhatsApp Cloud API side of media-origin: media IDs for stored files,
message bodies, and the status webhooks that say why a message failed. A pure
core (``calls``, ``media_ids``, ``messages``, ``webhooks``) and thin I/O around
it (``client`` for the provider, ``bridge`` over the storage's records,
``routes`` for ``/_whatsapp/``)."""
