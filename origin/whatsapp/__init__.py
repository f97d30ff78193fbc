"""WhatsApp's media rules as data, and the checks of bytes and of link responses
against them. Knows nothing of serving, uploading or operating: the serve,
upload, ops and cli packages ask it questions."""
