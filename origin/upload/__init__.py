"""The write side: the upload API (PUT, POST, DELETE, listing) and the refusals
it answers with, as JSON. ``api`` routes; ``staging`` holds the steps every upload
takes, ``multipart`` reads a POSTed form, ``refusal`` says why nothing was stored,
``results`` what was, ``listing`` what a folder holds."""
