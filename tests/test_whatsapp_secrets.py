"""The WhatsApp secrets never leave the process: after a session that touches
every part of the bridge — the verification challenge (right and wrong token),
deliveries signed and unsigned, media IDs uploaded, refused by the provider and
deleted, /metrics, the CLI's upload, --send and failures, a config mistake —
no access token, app secret, verify token or API token appears in the server's
log or errors, in any answer, in the CLI's output or in the stored records."""

import shutil
import subprocess
import sys

import pytest

from origin.cli.main import main
from tests.helpers.fake_provider import FakeProvider
from tests.helpers.servers import REPO, start_server, write_config
from tests.helpers.webhooks import FAILED, delivery, signed

NUMBER = "1234567890"
SECRETS = {
    "SECRET_API_TOKEN": "api-7f3a9c-never-shown",
    "WHATSAPP_TOKEN": "EAAG-access-2b8d41-never-shown",
    "WHATSAPP_APP_SECRET": "appsecret-9e61f0-never-shown",
    "WHATSAPP_VERIFY_TOKEN": "verify-44c2aa-never-shown",
}
AUTH = {"Authorization": f"Bearer {SECRETS['SECRET_API_TOKEN']}"}


@pytest.mark.parametrize("provider", ["meta", "360dialog"])
def test_no_secret_appears_anywhere(tmp_path, monkeypatch, capsys, caplog, provider):
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    root = tmp_path / "media"
    (root / "campaigns").mkdir(parents=True)
    shutil.copyfile(REPO / "media/campaigns/promo.png", root / "campaigns/promo.png")
    seen: list[str] = []
    with FakeProvider(provider, {NUMBER: SECRETS["WHATSAPP_TOKEN"]}) as fake:
        body = f"""
            [api]
            token_env = "SECRET_API_TOKEN"

            [log]
            access = "json"

            [metrics]
            enabled = true

            [whatsapp]
            provider = "{provider}"
            base_url = "{fake.base_url}"
            phone_number_id = "{NUMBER}"
            timeout = 3
            """
        config = write_config(tmp_path, body)
        with start_server(config, root, env=SECRETS) as origin:
            client = origin.client()

            def answered(response):
                seen.append(f"{response.status_code} {response.headers}\n{response.text}")
                return response

            challenge = {"hub.mode": "subscribe", "hub.challenge": "31337"}
            for token in (SECRETS["WHATSAPP_VERIFY_TOKEN"], "wrong"):
                answered(
                    client.get(
                        "/_whatsapp/webhook", params={**challenge, "hub.verify_token": token}
                    )
                )
            hook = delivery(FAILED)
            secret = SECRETS["WHATSAPP_APP_SECRET"]
            for signature in (signed(hook, secret), "sha256=00", None):
                if provider == "meta":
                    headers = {"X-Hub-Signature-256": signature} if signature else {}
                else:  # the secret itself in the configured header
                    headers = {"X-Webhook-Secret": secret if signature else "wrong"}
                answered(client.post("/_whatsapp/webhook", content=hook, headers=headers))
            ask = {"path": "/campaigns/promo.png"}
            fake.fail_next(401)  # the provider refuses the token
            answered(client.post("/_whatsapp/media", params=ask, headers=AUTH))
            fake.fail_next(500, 500, 500, 500)  # and then fails for good
            answered(client.post("/_whatsapp/media", params=ask, headers=AUTH))
            answered(client.post("/_whatsapp/media", params=ask, headers=AUTH))
            answered(client.get("/_whatsapp/media/campaigns/promo.png", headers=AUTH))
            answered(client.post("/_whatsapp/media", params=ask))  # no API token: 401

            for arguments in (
                ["upload", "/campaigns/promo.png"],
                ["message", "/campaigns/promo.png", "--to", "491512345678", "--send"],
                ["failures", "--json", "--since", "7d"],
            ):
                main(["whatsapp", arguments[0], "--config", str(config), *arguments[1:]])
            answered(client.delete("/campaigns/promo.png", headers=AUTH))
            answered(client.get("/metrics"))
            origin.process.terminate()  # the log is flushed at shutdown: read it whole
            origin.process.wait(timeout=10)
            seen += [origin.stdout(), origin.stderr()]
        assert fake.deleted, "the DELETE reached the provider"
    bad = tmp_path / "bad.toml"
    bad.write_text(body.replace("timeout = 3", "timeout = -1").replace("            ", ""))
    main(["whatsapp", "renew", "--config", str(bad)])
    cli = subprocess.run(  # a real process too: what logging prints when nobody captures it
        [sys.executable, "-m", "origin", "whatsapp", "upload", "--config", str(config), "/x.png"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    captured = capsys.readouterr()
    records = [path.read_text() for path in (root / ".media-origin").rglob("*.json")]
    seen += [captured.out, captured.err, caplog.text, cli.stdout, cli.stderr, *records]
    everything = "\n".join(seen)
    assert "31337" in everything and "provider answered 401" in everything  # it was all seen
    assert "timeout" in captured.err  # the config mistake was told
    leaked = {name for name, value in SECRETS.items() if value in everything}
    assert leaked == set(), f"secrets in the output: {sorted(leaked)}"
