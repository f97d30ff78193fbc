"""``DELETE /{path}``: the file goes, and the read side forgets it; a path with
nothing there is a JSON 404 that says how to see what is."""

from __future__ import annotations

from starlette.types import Send

from origin.serve.paths import storage_path
from origin.serve.representations import Representations
from origin.upload.answers import send_no_content, send_not_found
from origin.upload.refusal import Refused, send_refusal, split_path, storage_failures
from storage.base import Storage


async def delete_file(
    storage: Storage, representations: Representations, url_path: str, send: Send
) -> None:
    path = storage_path(url_path)
    try:
        with storage_failures(url_path):
            deleted = path is not None and await storage.delete(path)
    except Refused as refused:
        await send_refusal(send, refused, close=False)
        return
    if not deleted:
        folder, _ = split_path(url_path)
        message = (
            f"no such file: nothing is stored at {url_path}; "
            f"GET {folder}?list shows what that folder holds"
        )
        await send_not_found(send, url_path, message)
        return
    representations.forget(url_path)
    await send_no_content(send)
