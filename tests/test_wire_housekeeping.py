"""What the filesystem storage leaves behind: nothing of a cleanly stopped server,
and no folder a DELETE emptied (over a real socket, under both servers)."""

from __future__ import annotations

import signal

import pytest

TOKEN = "housekeeping-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
CONFIG = """
[api]
token_env = "HOUSEKEEPING_TOKEN"
"""


@pytest.fixture
def server(serve, monkeypatch):
    monkeypatch.setenv("HOUSEKEEPING_TOKEN", TOKEN)
    return serve(CONFIG, {"docs/keep/other.txt": "stays\n"})


def test_a_delete_removes_the_folders_it_left_empty_and_no_others(server):
    with server.client() as http:
        assert http.put("/docs/2026/05/a.txt", content=b"a\n", headers=AUTH).status_code == 201
        assert http.put("/docs/keep/b.txt", content=b"b\n", headers=AUTH).status_code == 201
        assert http.delete("/docs/2026/05/a.txt", headers=AUTH).status_code == 204
        assert http.delete("/docs/keep/b.txt", headers=AUTH).status_code == 204
    assert not (server.root / "docs" / "2026").exists()
    assert (server.root / "docs" / "keep" / "other.txt").read_text() == "stays\n"
    assert server.root.is_dir()


def test_a_clean_shutdown_removes_the_upload_area(server):
    with server.client() as http:
        assert http.put("/docs/a.txt", content=b"a\n", headers=AUTH).status_code == 201
    uploads = server.root / ".media-origin" / "uploads"
    assert any(uploads.iterdir()), "the upload area is made by the first upload"
    server.process.send_signal(signal.SIGTERM)
    assert server.process.wait(timeout=15) == 0
    assert list(uploads.iterdir()) == []
