"""The write side: the upload API (PUT, POST, DELETE, listing) and the refusals
it answers with, as JSON."""
