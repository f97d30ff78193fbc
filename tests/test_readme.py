"""The README's promises: two set-up commands first, CI runs the test one
verbatim, and the configuration reference names every key the code reads."""

import re

from conftest import REPO
from origin.policy import POLICY_KEYS

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
