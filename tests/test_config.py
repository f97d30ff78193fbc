"""config.toml: the documented names load; every mistake is one line naming the
file and the key, and the CLI exits non-zero before serving anything."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from origin.config import ConfigError, default_config, load_config
from tests.helpers.servers import REPO


def write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "media").mkdir(exist_ok=True)
    path = tmp_path / "config.toml"
    path.write_text(text)
    return path


def test_the_shipped_config_loads_with_the_issue_names():
    config = load_config(REPO / "config.toml")
    assert (config.server.host, config.server.port) == ("127.0.0.1", 8080)
    assert config.server.base_url == "http://127.0.0.1:8080"
    assert config.storage.root == (REPO / "media").resolve()
    policies = config.policies.by_folder
    assert policies["/"].cache_control == "max-age=86400"
    assert policies["/campaigns"].cache_control == "max-age=604800, immutable"
    assert policies["/catalog"].cache_control == "no-cache"
    assert policies["/catalog"].last_modified is True
    assert policies["/invoices"].cache_control == "private, no-store"
    assert policies["/invoices"].etag == "off"


def test_a_config_without_policies_gets_the_built_in_default(tmp_path):
    config = load_config(write(tmp_path, ""))
    root = config.policies.by_folder["/"]
    assert (root.cache_control, root.last_modified, root.etag) == ("max-age=86400", True, "strong")
    assert config.storage.root == (tmp_path / "media").resolve()
    assert config.server.base_url == "http://127.0.0.1:8080"


def test_root_is_relative_to_the_config_file_not_the_working_directory(tmp_path, monkeypatch):
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    assert load_config(write(tmp_path, "")).storage.root == (tmp_path / "media").resolve()


def test_built_in_default_serves_media_next_to_it(tmp_path):
    (tmp_path / "media").mkdir()
    assert default_config(tmp_path).storage.root == (tmp_path / "media").resolve()


def test_folder_trailing_slash_is_the_same_folder(tmp_path):
    config = load_config(write(tmp_path, '[policy."/a/"]\netag = "weak"\n'))
    assert config.policies.by_folder["/a"].etag == "weak"


def test_base_url_trailing_slash_is_dropped(tmp_path):
    config = load_config(write(tmp_path, '[server]\nbase_url = "https://cdn.example.com/m/"\n'))
    assert config.server.base_url == "https://cdn.example.com/m"


@pytest.mark.parametrize(
    ("text", "key", "message"),
    [
        ("[serve]\n", "serve", "unknown key"),
        ("[server]\nhots = 'x'\n", "server.hots", "unknown key"),
        ("[server]\nport = '8080'\n", "server.port", "must be an integer, not a string"),
        ("[server]\nport = true\n", "server.port", "must be an integer, not a boolean"),
        ("[server]\nport = 70000\n", "server.port", "not a TCP port"),
        ("[server]\nbase_url = 'cdn.example.com'\n", "server.base_url", "http(s)://"),
        ("[server]\nbase_url = 'https://x/?a=1'\n", "server.base_url", "query"),
        ("server = 1\n", "server", "must be a table"),
        ("[storage]\nbackend = 'ftp'\n", "storage.backend", "unknown backend 'ftp'"),
        ("[storage]\nroot = 'nope'\n", "storage.root", "does not exist"),
        ("[storage]\nroot = 'config.toml'\n", "storage.root", "is not a folder"),
        ("[policy.campaigns]\n", 'policy."campaigns"', "must start with '/'"),
        ('[policy."/a//b"]\n', 'policy."/a//b"', "must not contain"),
        ('[policy."/a/../b"]\n', 'policy."/a/../b"', "must not contain"),
        ('[policy."/.git"]\n', 'policy."/.git"', "dot-folders"),
        ('[policy."/a"]\n[policy."/a/"]\n', 'policy."/a/"', "same folder"),
        ('[policy]\n"/a" = 1\n', 'policy."/a"', "must be a table"),
        ('[policy."/"]\nmax_age = 3\n', 'policy."/".max_age', "unknown key"),
        ('[policy."/"]\netag = "strng"\n', 'policy."/".etag', "unknown mode 'strng'"),
        ('[policy."/"]\netag = true\n', 'policy."/".etag', "must be a string"),
        ('[policy."/"]\nlast_modified = "yes"\n', 'policy."/".last_modified', "true or false"),
        ('[policy."/"]\ncache_control = "max-age"\n', 'policy."/".cache_control', "seconds"),
        ('[policy."/"]\ncache_control = "maxage=3"\n', 'policy."/".cache_control', "unknown"),
        (
            '[policy."/a"]\ncache_control = "no-store, max-age=60"\n',
            'policy."/a".cache_control',
            "contradicts",
        ),
        (
            '[policy."/c"]\ncache_control = "no-cache"\nlast_modified = false\n',
            'policy."/c".last_modified',
            "Meta needs",
        ),
        (
            '[policy."/"]\nlast_modified = false\n[policy."/c"]\ncache_control = "no-cache"\n',
            'policy."/c".cache_control',
            "Meta needs",
        ),
        (
            '[policy."/x"]\ncache_control = "no-cache"\n[policy."/x/c"]\nlast_modified = false\n',
            'policy."/x/c".last_modified',
            "Meta needs",
        ),
        (
            '[policy."/"]\ncdn_cache_control = "max-age=x"\n',
            'policy."/".cdn_cache_control',
            "seconds",
        ),
        (
            '[policy."/"]\ncontent_disposition = "download"\n',
            'policy."/".content_disposition',
            "inline",
        ),
        ("[convert]\nworkers = -1\n", "convert.workers", "at least 0"),
        ("[convert]\nserving_cores = -1\n", "convert.serving_cores", "at least 0 (every core)"),
        ("[convert]\nmemory_mb = 0\n", "convert.memory_mb", "at least 1"),
        ("[convert]\ntimeout = 0\n", "convert.timeout", "above 0"),
        ("[convert]\njob_after = true\n", "convert.job_after", "above 0"),
        ("[convert]\naudio = 'mp3'\n", "convert.audio", "is not"),
        ("[convert]\nffmpeg = ''\n", "convert.ffmpeg", "must not be empty"),
        ("[convert]\nthreads = 2\n", "convert.threads", "unknown key"),
        ("[server\n", None, "not valid TOML"),
    ],
)
def test_mistakes_are_one_line_naming_file_and_key(tmp_path, text, key, message):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    error = str(caught.value)
    assert error.startswith(f"{path}: ")
    if key is not None:
        assert f": {key}: " in error
    assert message in error
    assert "\n" not in error


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="no such file"):
        load_config(tmp_path / "absent.toml")


def test_cli_refuses_a_bad_config_before_serving(tmp_path):
    path = write(tmp_path, '[policy."/"]\netag = "strng"\n')
    result = subprocess.run(
        [sys.executable, "-m", "origin", "serve", "--config", str(path), "--port", "1"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert lines == [
        f"media-origin serve: {path}: policy.\"/\".etag: unknown mode 'strng' (strong, weak or off)"
    ]


def test_cli_refuses_a_missing_storage_root(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text('[storage]\nroot = "missing"\n')
    result = subprocess.run(
        [sys.executable, "-m", "origin", "serve", "--config", str(path)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert "storage.root" in result.stderr and "does not exist" in result.stderr


def test_an_empty_environment_given_is_used_not_the_process_one(tmp_path, monkeypatch):
    from origin.config import config_from_document

    (tmp_path / "media").mkdir()
    monkeypatch.setenv("MEDIA_ORIGIN_TOKEN", "from-the-process")
    document = {"api": {"token_env": "MEDIA_ORIGIN_TOKEN"}}
    given = config_from_document(document, source="t", base_dir=tmp_path, environ={})
    assert given.api.token is None
    process = config_from_document(document, source="t", base_dir=tmp_path)
    assert process.api.token == "from-the-process"


def test_conversions_leave_the_first_serving_cores_to_serving(tmp_path):
    available = sorted(os.sched_getaffinity(0))
    kept = load_config(write(tmp_path, "[convert]\nserving_cores = 1\n")).convert
    every = load_config(write(tmp_path, "[convert]\nserving_cores = 0\n")).convert
    assert every.cpus is None
    if len(available) > 1:
        assert kept.cpus == frozenset(available[1:])
    else:
        assert kept.cpus is None  # one core: conversions share it rather than never run
    too_many = load_config(write(tmp_path, f"[convert]\nserving_cores = {len(available)}\n"))
    assert too_many.convert.cpus is None
