"""origin/upload/multipart.py: a form read as a stream of file parts, however the
body is cut into chunks, within its bounds. The body comes through an ASGI
``receive``, as the server hands it over."""

import asyncio
import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from origin.upload.multipart import (
    MAX_BOUNDARY_LENGTH,
    MAX_FILES_PER_POST,
    MAX_PART_HEADER_BYTES,
    MAX_PART_HEADERS,
    FilePart,
    file_parts,
    form_boundary,
)
from origin.upload.refusal import Refused
from origin.upload.request import ClientGone

BOUNDARY = b"form-boundary"


def part(disposition: str, content: bytes, *headers: str) -> bytes:
    lines = [f"Content-Disposition: form-data; {disposition}", *headers]
    return (
        b"--" + BOUNDARY + b"\r\n" + "\r\n".join(lines).encode() + b"\r\n\r\n" + content + b"\r\n"
    )


def form(*parts: bytes) -> bytes:
    return b"".join(parts) + b"--" + BOUNDARY + b"--\r\n"


def read(chunks: list[bytes], disconnect: bool = False) -> list[tuple[str, bytes]]:
    """The files of a form sent in ``chunks``: (name, content) each."""
    messages = [
        {"type": "http.request", "body": chunk, "more_body": i < len(chunks) - 1 or disconnect}
        for i, chunk in enumerate(chunks)
    ]
    if disconnect:
        messages.append({"type": "http.disconnect"})

    async def receive():
        return messages.pop(0)

    async def collect():
        files: list[tuple[str, bytes]] = []
        async for event in file_parts(receive, BOUNDARY, "/folder/"):
            if isinstance(event, FilePart):
                files.append((event.name, b""))
            else:
                files[-1] = (files[-1][0], files[-1][1] + event)
        return files

    return asyncio.run(collect())


TWO_FILES = form(
    part('name="file"; filename="one.jpg"', b"\xff\xd8one", "Content-Type: image/jpeg"),
    part('name="note"', b"a plain field, never a file"),
    part('name="file"; filename="two.pdf"', b"%PDF-two\r\n--not-the-boundary"),
)
EXPECTED = [("one.jpg", b"\xff\xd8one"), ("two.pdf", b"%PDF-two\r\n--not-the-boundary")]


def test_file_parts_skip_plain_fields():
    assert read([TWO_FILES]) == EXPECTED


@given(st.lists(st.integers(0, len(TWO_FILES)), max_size=12))
def test_the_same_files_however_the_body_is_cut(cuts):
    points = [0, *sorted(cuts), len(TWO_FILES)]
    assert read([TWO_FILES[a:b] for a, b in itertools.pairwise(points)]) == EXPECTED


@pytest.mark.parametrize(
    ("filename", "name"),
    [
        ("photo.jpg", "photo.jpg"),
        ("C:\\\\Users\\\\me\\\\photo.jpg", "photo.jpg"),
        ("a/b/c.pdf", "c.pdf"),
    ],
)
def test_a_filename_is_its_last_segment(filename, name):
    assert read([form(part(f'name="f"; filename="{filename}"', b"x"))]) == [(name, b"x")]


def refused(chunks: list[bytes], disconnect: bool = False) -> Refused:
    with pytest.raises(Refused) as caught:
        read(chunks, disconnect)
    return caught.value


def test_at_most_max_files_per_post():
    files = [part(f'name="f"; filename="{n}.jpg"', b"x") for n in range(MAX_FILES_PER_POST)]
    assert len(read([form(*files)])) == MAX_FILES_PER_POST
    error = refused([form(*files, part('name="f"; filename="one-more.jpg"', b"x"))])
    assert (error.status, error.code, error.path) == (413, "too_many_files", "/folder/")


def test_part_headers_are_bounded():
    long = "X-Long: " + "a" * MAX_PART_HEADER_BYTES
    error = refused([form(part('name="f"; filename="a.jpg"', b"x", long))])
    assert (error.status, error.code) == (400, "malformed_multipart")
    many = [f"X-{n}: y" for n in range(MAX_PART_HEADERS)]
    assert refused([form(part('name="f"; filename="a.jpg"', b"x", *many))]).code == (
        "malformed_multipart"
    )


def test_a_body_that_ends_before_its_closing_boundary_is_incomplete():
    error = refused([part('name="f"; filename="a.jpg"', b"x")])
    assert (error.status, error.code) == (400, "incomplete_body")
    assert "before the closing boundary" in error.message


def test_a_body_that_is_no_form_is_malformed():
    assert refused([b"this is not multipart at all\r\n"]).code == "malformed_multipart"


def test_a_client_gone_mid_form_is_client_gone():
    with pytest.raises(ClientGone):
        read([part('name="f"; filename="a.jpg"', b"x" * 1000)], disconnect=True)


def test_form_boundary():
    ok = b"multipart/form-data; boundary=" + b"b" * MAX_BOUNDARY_LENGTH
    assert form_boundary("/f/", ok) == b"b" * MAX_BOUNDARY_LENGTH
    for content_type, status, code in [
        (ok + b"b", 400, "malformed_multipart"),
        (b"multipart/form-data", 415, "not_multipart"),
        (b"application/x-www-form-urlencoded", 415, "not_multipart"),
        (b"", 415, "not_multipart"),
    ]:
        with pytest.raises(Refused) as caught:
            form_boundary("/f/", content_type)
        assert (caught.value.status, caught.value.code) == (status, code), content_type
