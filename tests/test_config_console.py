"""[console]: off unless enabled, a session's hours bounded, and every mistake one
line naming the file and the key."""

from pathlib import Path

import pytest

from origin.config import ConfigError, config_from_document


def load(tmp_path: Path, console: dict | None):
    (tmp_path / "media").mkdir(exist_ok=True)
    document = {} if console is None else {"console": console}
    return config_from_document(document, source="config.toml", base_dir=tmp_path, environ={})


def test_the_console_is_off_without_the_table(tmp_path):
    console = load(tmp_path, None).console
    assert console.enabled is False and console.session_hours == 12.0


def test_enabled_with_its_session_hours(tmp_path):
    console = load(tmp_path, {"enabled": True, "session_hours": 8}).console
    assert console.enabled is True and console.session_hours == 8.0


@pytest.mark.parametrize(
    ("table", "key"),
    [
        ({"enabled": "yes"}, "console.enabled"),
        ({"session_hours": 0}, "console.session_hours"),
        ({"session_hours": 721}, "console.session_hours"),
        ({"session_hours": True}, "console.session_hours"),
        ({"session_hours": "12h"}, "console.session_hours"),
        ({"sessions": 1}, "console.sessions"),
    ],
)
def test_a_mistake_is_one_line_naming_the_key(tmp_path, table, key):
    with pytest.raises(ConfigError) as raised:
        load(tmp_path, table)
    message = str(raised.value)
    assert message.startswith("config.toml: ") and key in message and "\n" not in message
