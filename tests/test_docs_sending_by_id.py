"""README "Sending by ID" as it is written: every ``$ command`` of its shown
sessions run in order against a real server and the loopback provider, and
its output compared with the README's, IDs, stamps, wamids and versions aside.
A failed status for the sent message (and Meta's fetches before it) is
delivered before the failure report is asked for, as Meta would."""

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.helpers.fake_provider import FakeProvider
from tests.helpers.servers import REPO, start_server
from tests.helpers.webhooks import delivery, signed

SECTION = "## Sending by ID"
NUMBER = "106540352242922"
ENV = {
    "MEDIA_ORIGIN_TOKEN": "change-me",
    "WHATSAPP_TOKEN": "EAAG-readme",
    "WHATSAPP_APP_SECRET": "app-secret",
    "WHATSAPP_VERIFY_TOKEN": "my-verify-token",
}
VARYING = [
    (re.compile(r"\b\d{16}\b"), "<id>"),
    (re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+\+00:00|Z)"), "<time>"),
    (re.compile(r"wamid\.[0-9a-f]+"), "<wamid>"),
    (re.compile(r"\?v=[0-9a-f]+"), "?v=<v>"),
]
RATE_LIMITED = (
    "Downloading media from weblink failed with http code 429, status message Too Many "
    "Requests - ratelimit by fwdproxy"
)


def sessions() -> list[tuple[str, str]]:
    """(command, output shown) for each ``$ `` line of the section's blocks."""
    text = (REPO / "README.md").read_text()
    section = text.split(SECTION, 1)[1].split("\n## ", 1)[0]
    found = []
    for block in re.findall(r"```\n(\$ .*?)```", section, re.DOTALL):
        for piece in re.split(r"^\$ ", block, flags=re.MULTILINE)[1:]:
            command, _, output = piece.partition("\n")
            found.append((command, output))
    return found


def normalised(text: str) -> str:
    for pattern, placeholder in VARYING:
        text = pattern.sub(placeholder, text)
    return text.strip()


def test_the_readme_sessions_print_what_they_show(tmp_path):
    shown = sessions()
    assert len(shown) >= 8 and any("whatsapp failures" in c for c, _ in shown)
    root = tmp_path / "media"
    for name in ("campaigns/promo.png", "catalog/price-list.pdf"):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(REPO / "media" / name, root / name)
    env = {**os.environ, **ENV, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    env.pop("MEDIA_ORIGIN_CONFIG", None)
    with FakeProvider("meta", {NUMBER: ENV["WHATSAPP_TOKEN"]}) as fake:
        config = tmp_path / "config.toml"
        config.write_text(
            '[storage]\nroot = "media"\n\n[server]\nbase_url = "https://media.example.com"\n\n'
            '[api]\ntoken_env = "MEDIA_ORIGIN_TOKEN"\n\n[log]\naccess = "json"\n\n'
            f'[whatsapp]\nbase_url = "{fake.base_url}"\nphone_number_id = "{NUMBER}"\n'
        )
        with start_server(config, root, env=ENV) as origin:
            wamid = None
            for command, expected in shown:
                if "whatsapp failures" in command and wamid is not None:
                    _fail_as_meta_would(origin, wamid, tmp_path / "access.log")
                    wamid = None
                run = command.replace("http://127.0.0.1:8080", origin.url)
                done = subprocess.run(
                    run,
                    shell=True,
                    cwd=tmp_path,
                    env=env,
                    capture_output=True,
                    text=True,
                    timeout=60,
                )
                assert done.returncode == 0, f"{command}\n{done.stderr}"
                assert normalised(done.stdout) == normalised(expected), command
                if "--send" in command:
                    wamid = done.stdout.strip()
    assert len(fake.sent) == 1


def _fail_as_meta_would(origin, wamid: str, log: Path) -> None:
    """Meta fetches the file twice, then reports the message failed."""
    for _ in range(2):
        answer = origin.client().get(
            "/campaigns/promo.png", headers={"User-Agent": "facebookexternalua"}
        )
        assert answer.status_code == 200
    deadline = time.monotonic() + 5
    while sum(line["meta_fetch"] for line in origin.access_log()) < 2:
        assert time.monotonic() < deadline, "Meta's fetches were not logged"
        time.sleep(0.1)
    log.write_text(origin.stdout())
    error = {"code": 131053, "title": "Media upload error", "error_data": {"details": RATE_LIMITED}}
    status = {
        "id": wamid,
        "status": "failed",
        "timestamp": str(int(time.time())),
        "recipient_id": "15551234567",
        "errors": [error],
    }
    body = delivery(status)
    answer = httpx.post(
        f"{origin.url}/_whatsapp/webhook",
        content=body,
        headers={"X-Hub-Signature-256": signed(body, ENV["WHATSAPP_APP_SECRET"])},
    )
    assert json.loads(answer.text) == {"stored": 1, "repeated": 0}
