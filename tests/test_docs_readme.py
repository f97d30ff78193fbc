"""The README's promises: two set-up commands first, CI runs the test one
verbatim, and the configuration reference names every key the code reads."""

import re

from origin.policy import POLICY_KEYS
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


def test_every_config_key_is_documented():
    for key in ("server.host", "server.port", "server.base_url", "storage.backend", "storage.root"):
        assert f"`{key}`" in README, key
    for key in POLICY_KEYS:
        assert f'`policy."/folder".{key}`' in README, key


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
