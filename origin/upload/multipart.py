"""Reading a POSTed multipart/form-data body (RFC 7578) as a stream of file parts,
with bounds on everything a hostile form could grow: the boundary, a part's
headers, the number of files. Nothing is buffered beyond one chunk of the body."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, MultipartState, parse_options_header
from starlette.types import Receive

from origin.upload.refusal import incomplete, malformed, not_multipart, too_many_files
from origin.upload.request import body

MAX_FILES_PER_POST = 100
# RFC 2046 section 5.1.1: a boundary is 1 to 70 characters.
MAX_BOUNDARY_LENGTH = 70
# A part's headers (Content-Disposition, Content-Type) fit in a few hundred bytes;
# these bounds keep a hostile form from growing memory through them.
MAX_PART_HEADER_BYTES = 16 * 1024
MAX_PART_HEADERS = 16


@dataclass(frozen=True)
class FilePart:
    """A file part begins; the ``bytes`` that follow it are its content."""

    name: str  # the filename's last segment, whichever slash the client used


def form_boundary(folder: str, content_type: bytes) -> bytes:
    """The boundary of a multipart/form-data body, or why the body is no such form."""
    kind, options = parse_options_header(content_type)
    if kind != b"multipart/form-data" or b"boundary" not in options:
        raise not_multipart(folder, content_type.decode("latin-1"))
    boundary = options[b"boundary"]
    if not 0 < len(boundary) <= MAX_BOUNDARY_LENGTH:
        raise malformed(
            folder,
            f"the boundary is {len(boundary)} characters; "
            f"RFC 2046 allows 1 to {MAX_BOUNDARY_LENGTH}",
        )
    return boundary


async def file_parts(
    receive: Receive, boundary: bytes, folder: str
) -> AsyncIterator[FilePart | bytes]:
    """Each file part as a ``FilePart`` then its content in chunks; plain form
    fields are skipped. Refused past MAX_FILES_PER_POST files, and if the body
    ends before its closing boundary."""
    reader = _FormReader(boundary, folder)
    files = 0
    async for chunk in body(receive):
        for event in reader.feed(chunk):
            if isinstance(event, FilePart):
                files += 1
                if files > MAX_FILES_PER_POST:
                    raise too_many_files(folder, MAX_FILES_PER_POST)
            yield event
    if not reader.complete:
        raise incomplete(folder, "before the closing boundary")


class _FormReader:
    """python-multipart's push parser, whose callbacks can only queue what they
    see: ``feed`` hands the queue back, to be handled with awaits."""

    def __init__(self, boundary: bytes, folder: str) -> None:
        self.folder = folder
        self._events: list[FilePart | bytes] = []
        self._field = self._value = b""
        self._headers: dict[bytes, bytes] = {}
        self._in_file = False
        self._parser = MultipartParser(
            boundary,
            {
                "on_header_field": self._on_header_field,
                "on_header_value": self._on_header_value,
                "on_header_end": self._on_header_end,
                "on_headers_finished": self._on_headers_finished,
                "on_part_data": self._on_part_data,
                "on_part_end": self._on_part_end,
            },
        )

    @property
    def complete(self) -> bool:
        return self._parser.state == MultipartState.END

    def feed(self, chunk: bytes) -> list[FilePart | bytes]:
        try:
            self._parser.write(chunk)
        except FormParserError as error:
            raise malformed(self.folder, str(error)) from None
        events, self._events = self._events, []
        return events

    def _bounded(self) -> None:
        if len(self._field) + len(self._value) > MAX_PART_HEADER_BYTES:
            raise malformed(self.folder, f"a part header is over {MAX_PART_HEADER_BYTES} bytes")

    def _on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._field += data[start:end]
        self._bounded()

    def _on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._value += data[start:end]
        self._bounded()

    def _on_header_end(self) -> None:
        self._headers[self._field.lower()] = self._value
        self._field = self._value = b""
        if len(self._headers) > MAX_PART_HEADERS:
            raise malformed(self.folder, f"a part has more than {MAX_PART_HEADERS} headers")

    def _on_headers_finished(self) -> None:
        _, options = parse_options_header(self._headers.get(b"content-disposition", b""))
        self._headers.clear()
        filename = options.get(b"filename")
        self._in_file = filename is not None  # else a plain form field: not a file
        if filename is not None:
            name = filename.decode("utf-8", "replace").replace("\\", "/").rsplit("/", 1)[-1]
            self._events.append(FilePart(name))

    def _on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self._in_file:
            self._events.append(data[start:end])

    def _on_part_end(self) -> None:
        self._in_file = False
