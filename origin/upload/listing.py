"""``GET /{folder}/?list``: what a folder holds, for the token holder, and the
404s that say how to ask for it instead."""

from __future__ import annotations

from dataclasses import replace

from origin.serve.paths import storage_path
from origin.serve.representations import Representations, StorageBusy
from origin.upload.results import Listed, header_text, last_modified_text
from origin.upload.staging import whatsapp_type_of
from origin.whatsapp.media_types import content_type_for
from storage.base import Storage, StorageUnavailable


def no_such_folder(folder: str) -> str | None:
    """Why ``folder`` can hold no stored file, or None if it can."""
    prefix = folder.strip("/")
    if prefix and storage_path("/" + prefix) is None:
        return (
            f"no such folder: {folder} cannot hold stored files (no dot-files, '.' or '..' "
            "segments, backslashes or control characters); list a folder like /campaigns/?list"
        )
    return None


def missing_slash(path: str) -> str:
    return f"{path} is not a file; to list the folder, add a trailing slash: {path}/?list"


async def list_folder(
    storage: Storage, representations: Representations, folder: str
) -> list[Listed]:
    """The folder's files; one that cannot be read is listed with its error, not
    the folder's failure. A storage failure of the listing itself is raised."""
    prefix = folder.strip("/")
    files = []
    for name, stat in await storage.list(prefix):
        url_path = f"/{prefix}/{name}" if prefix else f"/{name}"
        entry = Listed(
            path=url_path,
            size=stat.size,
            content_type=content_type_for(name),
            whatsapp_type=whatsapp_type_of(name),
            etag=None,
            last_modified=last_modified_text(stat),
        )
        try:
            representation = await representations.get(url_path, url_path[1:])
        except (StorageUnavailable, StorageBusy) as error:
            entry = replace(entry, error=str(error) or "the file kept changing")
        else:
            if representation is None:
                continue  # gone since it was listed
            entry = replace(entry, etag=header_text(representation, b"etag"))
        files.append(entry)
    return files
