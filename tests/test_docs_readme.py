"""The README's promises: two set-up commands first, CI runs the test one
verbatim, and the configuration reference lists exactly the keys config.py
accepts (``origin.config.SECTION_KEYS``), each with the default it really has."""

import re
import tomllib
from pathlib import Path

import pytest

from origin.config import S3_KEYS, SECTION_KEYS, Config, ConfigError, config_from_document
from tests.helpers.servers import REPO

README = (REPO / "README.md").read_text()


def setup_commands() -> list[str]:
    return re.findall(r"```sh\n(.+?)\n```", README)[:2]


def test_readme_opens_with_a_serve_command_and_a_test_command():
    serve, test = setup_commands()
    assert README.index(serve) < README.index("## ")
    assert serve.endswith("media-origin serve") and "pip install -e ." in serve
    assert test.endswith("pytest") and 'pip install -e ".[test]"' in test


def test_ci_runs_the_readme_test_command_verbatim():
    ci = (REPO / ".ci" / "run").read_text()
    assert setup_commands()[1] in ci.splitlines()


# The configuration reference: every table under "## Configuration" with this header.
REFERENCE_HEADER = "| key | type | default | meaning |"
KINDS = {
    "string": str,
    "integer": int,
    "number": float,
    "bool": bool,
    "array of strings": list,
    "array of tables": list,
}
REQUIRED = "—"  # the default cell of a key that must be set
S3_DOCUMENT = {"storage": {"backend": "s3", "bucket": "a-bucket"}}
# Keys whose value the loaded record does not keep: what it keeps instead (unset, unset).
DERIVED = {("api", "signing_key_env"): "signing_key"}


def reference_rows() -> list[tuple[str, str, str, str]]:
    """(table, key, type, default) for each row of the reference; ``policy."/folder".etag``
    is table "policy", key "etag", as in ``SECTION_KEYS``."""
    start = README.index("\n## Configuration\n")
    section = README[start : README.index("\n## ", start + 1)]
    rows, in_table = [], False
    for line in section.splitlines():
        if line == REFERENCE_HEADER:
            in_table = True
        elif not line.startswith("|"):
            in_table = False
        elif in_table and not line.startswith("|---"):
            cells = [cell.strip() for cell in line.strip("|").split(" | ")]
            assert len(cells) == 4, f"not four cells (a | inside one?): {line}"
            name = re.fullmatch(r'`(\w+)(?:\."/folder")?\.(\w+)`', cells[0])
            assert name, f"not a `table.key` name: {cells[0]}"
            rows.append((name[1], name[2], cells[1], cells[2]))
    assert rows, f"no table headed {REFERENCE_HEADER!r} under ## Configuration"
    return rows


def test_the_reference_documents_exactly_the_keys_config_py_accepts():
    """Both ways: no accepted key is missing, none documented is refused, none twice."""
    documented = [(table, key) for table, key, _, _ in reference_rows()]
    accepted = {(table, key) for table, keys in SECTION_KEYS.items() for key in keys}
    assert len(documented) == len(set(documented)), "a key is documented twice"
    assert sorted(accepted - set(documented)) == [], "accepted by config.py, not documented"
    assert sorted(set(documented) - accepted) == [], "documented, refused by config.py"


def test_the_reference_states_the_defaults_config_py_applies(tmp_path):
    """Each stated default against a config loaded without the key: a TOML value is
    compared as it is (a template such as ``http://{host}:{port}`` filled in from its
    table), "—" must be a key whose absence is an error, and prose ("none", "AWS")
    must be a key config.py leaves unset."""
    (tmp_path / "media").mkdir()

    def load(document: dict) -> Config:
        # an empty environment: the defaults, whatever this shell has set
        return config_from_document(document, source="test", base_dir=tmp_path, environ={})

    plain, s3 = load({}), load(S3_DOCUMENT)
    for table, key, kind, default in reference_rows():
        if key not in SECTION_KEYS.get(table, ()):
            continue  # refused by config.py: the test above names it
        name = f"{table}.{key}"
        assert kind in KINDS, f"{name}: unknown type {kind!r}"
        if table == "policy":
            owner = plain.policies.for_path("/a/file.jpg")
        elif table == "storage":
            owner = s3.storage.s3 if key in S3_KEYS else plain.storage
        else:
            owner = getattr(plain, table)
        actual = getattr(owner, key) if hasattr(owner, key) else getattr(owner, DERIVED[table, key])
        literal = re.fullmatch(r"`([^`]+)`", default)
        if default == REQUIRED:
            document = S3_DOCUMENT if table == "storage" else {table: {}}
            without = {table: {k: v for k, v in document[table].items() if k != key}}
            with pytest.raises(ConfigError, match=re.escape(name)):
                load(without)
        elif literal is None:
            assert actual is None, f"{name}: README says {default!r}, config.py has {actual!r}"
        else:
            try:
                stated = tomllib.loads(f"value = {literal[1]}")["value"]
            except tomllib.TOMLDecodeError:
                stated = literal[1].format(**vars(owner))
            assert isinstance(stated, KINDS[kind]), f"{name}: {default} is not a {kind}"
            if isinstance(actual, Path):
                stated = (tmp_path / stated).resolve()
            elif isinstance(actual, tuple):
                actual = [str(item) for item in actual]
            assert actual == stated, f"{name}: README says {default}, config.py has {actual!r}"


def test_the_api_examples_work_as_written(tmp_path):
    """Run the README's upload-API block in a copy of the repository's default
    setup; only the port is changed, to a free one."""
    import json
    import os
    import shutil
    import subprocess
    import sys

    from tests.helpers.servers import free_port

    section = README[README.index("## Upload API") :]
    script = re.search(r"```sh\n(.+?)\n```", section, re.S).group(1)
    port = free_port()
    script = script.replace("127.0.0.1:8080", f"127.0.0.1:{port}")
    script = script.replace("media-origin serve &", f"media-origin serve --port {port} &")
    shutil.copy(REPO / "config.toml", tmp_path / "config.toml")
    shutil.copytree(REPO / "media", tmp_path / "media", ignore=shutil.ignore_patterns(".*"))
    env = {**os.environ, "PATH": f"{os.path.dirname(sys.executable)}:{os.environ['PATH']}"}
    env.pop("MEDIA_ORIGIN_CONFIG", None)
    result = subprocess.run(
        ["bash", "-e", "-c", script],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    # curl prints the JSON answers back to back, between the server's log lines
    decoder, answers = json.JSONDecoder(), []
    text = result.stdout[result.stdout.index('{"path"') :]
    while True:
        try:
            answer, end = decoder.raw_decode(text)
        except json.JSONDecodeError:
            break
        if not (isinstance(answer, dict) and "request_id" in answer):  # not an access-log line
            answers.append(answer)
        text = text[end:].lstrip()
    put, posted, listing = answers
    assert put["path"] == "/campaigns/2026/promo.png" and "?v=" in put["versioned_url"]
    assert [f["path"] for f in posted] == ["/catalog/price-list.pdf", "/catalog/welcome.txt"]
    assert {f["path"] for f in listing} == {"/catalog/price-list.pdf", "/catalog/welcome.txt"}
    assert not (tmp_path / "media" / "campaigns" / "2026" / "promo.png").exists()  # deleted


def test_the_repository_stands_on_its_own():
    """No file of the repository points at a workplace folder a clone does not have."""
    import subprocess

    tracked = subprocess.run(
        ["git", "ls-files"], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout.split()
    offenders = [
        name
        for name in tracked
        if (REPO / name).is_file()
        and "shared/" in (REPO / name).read_text(encoding="utf-8", errors="ignore")
        and name != "tests/test_docs_readme.py"
    ]
    assert offenders == []
