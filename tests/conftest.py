"""The fixtures of the suite. Helpers live in ``tests/helpers/`` (imported as
``tests.helpers.<module>``), never here.

How the tests are named (one convention, so a module's tests are found by name):

- Unit tests, ``test_<package>_<module>.py``, mirror the code's path:
  ``test_http_etags.py`` tests ``origin/http/etags.py``, ``test_storage_filesystem``
  ``storage/filesystem.py``, ``test_config.py`` ``origin/config.py``. Pure functions over
  plain values, with tables and hypothesis; no sockets.
- Wire tests, ``test_wire_<topic>.py``, start the real server on 127.0.0.1 and
  talk HTTP to it, under granian and uvicorn, over the filesystem and S3 where
  the topic applies.
- ``test_faults_<topic>.py``: wire tests of concurrency, faults and hostile input.
- ``test_cli_<command>.py`` run the ``media-origin`` command as a user does.
- ``test_docs_<topic>.py`` check what the README and the shipped files promise.
- ``test_style.py``: ruff, and the layout's dependency and size rules.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.helpers.s3 import CREDENTIALS, S3Endpoint, new_bucket
from tests.helpers.servers import (
    SERVERS,
    SETUP_IDS,
    SETUPS,
    STANDARD_CONFIG,
    STANDARD_FILES,
    RunningServer,
    start_server,
    write_config,
    write_files,
)


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[S3Endpoint]:
    with pytest.MonkeyPatch.context() as patch:
        for name, value in CREDENTIALS.items():
            patch.setenv(name, value)  # for boto3 here and for every server started
        endpoint = S3Endpoint()
        endpoint.start()
        yield endpoint
        endpoint.stop()


@pytest.fixture(params=SERVERS)
def serve(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator:
    """``serve(config_body, files)`` starts a server on a fresh tree; stopped after the test."""
    started: list[RunningServer] = []

    def _serve(config_body: str = "", files: dict[str, bytes | str] | None = None) -> RunningServer:
        root = tmp_path / "media"
        root.mkdir(exist_ok=True)
        write_files(root, files or {})
        config = write_config(tmp_path, config_body)
        server = start_server(config, root, server=request.param)
        started.append(server)
        return server

    yield _serve
    for server in started:
        server.stop()


@pytest.fixture(scope="module", params=SETUPS, ids=SETUP_IDS)
def standard_server(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[RunningServer]:
    """One server over a tree that covers the policies, shared by a test module."""
    server_name, backend = request.param
    directory = tmp_path_factory.mktemp("standard")
    root = directory / "media"
    (directory / "outside.txt").write_text("outside the root")
    bucket = None
    if backend == "s3":
        root.mkdir()
        bucket = new_bucket(request.getfixturevalue("s3_endpoint"))
        for name, content in STANDARD_FILES.items():
            bucket.put(name, content)
    else:
        write_files(root, STANDARD_FILES)
    config = write_config(directory, STANDARD_CONFIG, bucket=bucket)
    server = start_server(config, root, server=server_name)
    server.bucket = bucket
    yield server
    server.stop()


@pytest.fixture(scope="module")
def client(standard_server: RunningServer) -> Iterator[httpx.Client]:
    with standard_server.client() as http:
        yield http
