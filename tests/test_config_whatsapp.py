"""[whatsapp]: the issue's names load, the secrets come from the environment and
never show in a repr or an error, several numbers, and every mistake is one line
naming the file and the key."""

from pathlib import Path

import pytest

from origin.config import ConfigError, config_from_document

ENV = {
    "WHATSAPP_TOKEN": "tok-secret-1",
    "WHATSAPP_APP_SECRET": "app-secret-2",
    "WHATSAPP_VERIFY_TOKEN": "verify-3",
    "OTHER_TOKEN": "tok-secret-4",
}
SECRETS = ("tok-secret-1", "app-secret-2", "verify-3", "tok-secret-4")


def load(tmp_path: Path, whatsapp: dict | None, environ: dict | None = None):
    (tmp_path / "media").mkdir(exist_ok=True)
    document = {} if whatsapp is None else {"whatsapp": whatsapp}
    return config_from_document(
        document,
        source="config.toml",
        base_dir=tmp_path,
        environ=ENV if environ is None else environ,
    )


def test_no_table_no_bridge(tmp_path):
    config = load(tmp_path, None)
    assert not config.whatsapp.configured and config.whatsapp.numbers == ()
    assert config.whatsapp.number(None) is None


def test_the_issues_example_loads(tmp_path):
    bridge = load(
        tmp_path,
        {
            "provider": "meta",
            "base_url": "https://graph.facebook.com",
            "api_version": "v23.0",
            "phone_number_id": "1234567890",
            "access_token_env": "WHATSAPP_TOKEN",
            "app_secret_env": "WHATSAPP_APP_SECRET",
            "verify_token_env": "WHATSAPP_VERIFY_TOKEN",
            "renew_days": 3,
            "timeout": 10,
            "webhook_header": "X-Webhook-Secret",
        },
    ).whatsapp
    assert bridge.configured and bridge.provider == "meta" and bridge.timeout == 10.0
    assert bridge.number(None).phone_number_id == "1234567890"
    assert bridge.number(None).token == "tok-secret-1"
    assert (bridge.app_secret, bridge.verify_token) == ("app-secret-2", "verify-3")
    assert not any(secret in repr(bridge) for secret in SECRETS)


def test_360dialog_gets_its_own_address(tmp_path):
    bridge = load(tmp_path, {"provider": "360dialog", "phone_number_id": "1"}).whatsapp
    assert bridge.base_url == "https://waba-v2.360dialog.io"


def test_several_numbers(tmp_path):
    bridge = load(
        tmp_path,
        {
            "numbers": [
                {"phone_number_id": "111", "access_token_env": "WHATSAPP_TOKEN"},
                {"phone_number_id": "222", "access_token_env": "OTHER_TOKEN"},
            ]
        },
    ).whatsapp
    assert [n.phone_number_id for n in bridge.numbers] == ["111", "222"]
    assert bridge.number("222").token == "tok-secret-4"
    assert bridge.number(None) is None and bridge.number("333") is None  # must be named


@pytest.mark.parametrize(
    ("table", "environ", "key", "message"),
    [
        ({"phone_number_id": "1", "provider": "twilio"}, None, "whatsapp.provider", "is not"),
        (
            {"phone_number_id": "1", "base_url": "graph.facebook.com"},
            None,
            "whatsapp.base_url",
            "http(s)://",
        ),
        ({"phone_number_id": "1", "renew_days": 30}, None, "whatsapp.renew_days", "0 to 29"),
        ({"phone_number_id": "1", "renew_days": -1}, None, "whatsapp.renew_days", "0 to 29"),
        ({"phone_number_id": "1", "timeout": 0}, None, "whatsapp.timeout", "above 0"),
        ({"phone_number_id": "1", "tokens": "x"}, None, "whatsapp.tokens", "unknown key"),
        ({}, None, "whatsapp.phone_number_id", "is required"),
        ({"phone_number_id": 1234}, None, "whatsapp.phone_number_id", "must be a string"),
        ({"phone_number_id": "+1 555"}, None, "whatsapp.phone_number_id", "not a number's ID"),
        ({"phone_number_id": "1"}, {}, "whatsapp.access_token_env", "WHATSAPP_TOKEN is not set"),
        (
            {"phone_number_id": "1", "numbers": [{"phone_number_id": "2"}]},
            None,
            "whatsapp.phone_number_id",
            "not both",
        ),
        ({"numbers": []}, None, "whatsapp.numbers", "one or more"),
        (
            {"numbers": [{"phone_number_id": "2", "token": "x"}]},
            None,
            "whatsapp.numbers[0].token",
            "unknown key",
        ),
        (
            {"numbers": [{"phone_number_id": "2"}, {"phone_number_id": "2"}]},
            None,
            "whatsapp.numbers",
            "given twice",
        ),
    ],
)
def test_mistakes_are_one_line_naming_the_key_and_no_secret(tmp_path, table, environ, key, message):
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, table, environ)
    error = str(caught.value)
    assert error.startswith(f"config.toml: {key}: ") and message in error and "\n" not in error
    assert not any(secret in error for secret in SECRETS)
