"""The failure report end to end: a message sent with ``whatsapp message --send``
through the loopback provider, Meta's fetches of its file in the server's JSON
access log, the failed status delivered to the real server's webhook, and
``whatsapp failures`` joining the three; the metrics count the statuses and
causes once, whatever the repeats."""

import json
import shutil
import time

import pytest

from origin.cli.main import main
from tests.helpers import media as fx
from tests.helpers.fake_provider import FakeProvider
from tests.helpers.servers import REPO, start_server, write_config
from tests.helpers.webhooks import delivery, signed

NUMBER = "1234567890"
ENV = {
    "FAIL_API_TOKEN": "fail-api-token",
    "WHATSAPP_TOKEN": "fail-wa-token-3321",
    "WHATSAPP_APP_SECRET": "fail-app-secret-8812",
    "WHATSAPP_VERIFY_TOKEN": "fail-verify-1177",
}
META = {"User-Agent": "facebookexternalua"}
RATE_LIMITED = "Downloading media from weblink failed with http code 429, ratelimit by fwdproxy"


@pytest.fixture
def world(tmp_path, monkeypatch):
    """(origin, fake, run): the server and the CLI over one storage and one provider."""
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    root = tmp_path / "media"
    (root / "campaigns").mkdir(parents=True)
    shutil.copyfile(REPO / "media/campaigns/promo.png", root / "campaigns/promo.png")
    with FakeProvider("meta", {NUMBER: ENV["WHATSAPP_TOKEN"]}) as fake:
        config = write_config(
            tmp_path,
            f"""
            [api]
            token_env = "FAIL_API_TOKEN"

            [log]
            access = "json"

            [metrics]
            enabled = true

            [whatsapp]
            base_url = "{fake.base_url}"
            phone_number_id = "{NUMBER}"
            timeout = 5
            """,
        )
        with start_server(config, root, env=ENV) as origin:

            def run(capsys, action, *arguments):
                code = main(["whatsapp", action, "--config", str(config), *arguments])
                captured = capsys.readouterr()
                return code, captured.out, captured.err

            yield origin, fake, run


def failed_status(wamid: str, stamp: int, details: str) -> dict:
    error = {"code": 131053, "title": "Media upload error", "error_data": {"details": details}}
    return {
        "id": wamid,
        "status": "failed",
        "timestamp": str(stamp),
        "recipient_id": "491512345678",
        "errors": [error],
    }


def deliver(origin, *statuses):
    body = delivery(*statuses)
    signature = signed(body, ENV["WHATSAPP_APP_SECRET"])
    answer = origin.client().post(
        "/_whatsapp/webhook",
        content=body,
        headers={"Content-Type": "application/json", "X-Hub-Signature-256": signature},
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


def meta_fetches_logged(origin, count):
    """The access log as written so far, once ``count`` Meta fetches are in it
    (lines are written in batches, at most half a second late)."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        if sum(line["meta_fetch"] for line in origin.access_log()) >= count:
            return origin.stdout()
        time.sleep(0.1)
    raise AssertionError(f"fewer than {count} Meta fetches logged: {origin.stdout()}")


def test_a_failed_message_is_joined_to_its_file_and_metas_fetches(world, tmp_path, capsys):
    origin, fake, run = world
    code, out, err = run(capsys, "message", "/campaigns/promo.png", "--to", "491512345678")
    assert code == 0, err
    media_id = json.loads(out)["image"]["id"]  # by ID: uploaded once
    code, out, err = run(
        capsys, "message", "/campaigns/promo.png", "--to", "491512345678", "--by", "link", "--send"
    )
    assert code == 0, err
    wamid = out.strip()
    assert fake.sent[-1]["image"]["link"].startswith("http://127.0.0.1:8080/campaigns/promo.png")
    size = (origin.root / "campaigns/promo.png").stat().st_size
    for headers in (META, META, {"User-Agent": "Mozilla/5.0"}):
        assert origin.client().get("/campaigns/promo.png", headers=headers).status_code == 200
    log = tmp_path / "access.log"
    log.write_text(meta_fetches_logged(origin, 2))
    now = int(time.time())
    kept = deliver(
        origin,
        failed_status(wamid, now, RATE_LIMITED),
        failed_status("wamid.someone-else", now - 30, "http code 404"),
        failed_status("wamid.long-ago", now - 7200, "http code 503"),
        {"id": wamid, "status": "sent", "timestamp": str(now - 60), "recipient_id": "4915"},
    )
    assert kept == {"stored": 4, "repeated": 0}

    code, out, err = run(capsys, "failures", "--json", "--access-log", str(log))
    assert code == 0, err
    report = {failure["wamid"]: failure for failure in json.loads(out)}
    assert set(report) == {wamid, "wamid.someone-else"}  # --since 1h, from each status's stamp
    ours = report[wamid]
    assert ours["cause"] == "meta_rate_limit" and ours["code"] == 131053
    assert ours["details"] == RATE_LIMITED and ours["advice"].startswith("Meta's fetcher")
    assert ours["path"] == "/campaigns/promo.png" and ours["verdict"] == "ok"
    assert ours["timestamp"] == time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now))
    assert [(f["status"], f["bytes"], f["user_agent"]) for f in ours["fetches"]] == [
        (200, size, "facebookexternalua")
    ] * 2
    other = report["wamid.someone-else"]
    assert other["cause"] == "origin_http_error"
    assert (other["path"], other["verdict"], other["fetches"]) == (None, None, [])

    code, out, _ = run(capsys, "failures", "--since", "3h", "--access-log", str(log))
    lines = out.splitlines()
    assert code == 0 and lines[0] == "meta_rate_limit (1)" and lines[1].startswith("  advice: ")
    assert "origin_http_error (2)" in lines and lines[-1] == "3 failed messages in the last 3h"
    assert (
        "    file: /campaigns/promo.png (check: ok); Meta fetched it 2 times in the 10 minutes "
        "before: 200, 200"
    ) in lines
    assert media_id in fake.media  # the ID stayed valid: sending by link was a choice


def test_a_repeated_delivery_is_counted_once_in_the_metrics(world):
    origin, _, _ = world
    now = int(time.time())
    statuses = (
        failed_status("wamid.1", now, RATE_LIMITED),
        failed_status("wamid.2", now, "http code 404"),
        {"id": "wamid.3", "status": "delivered", "timestamp": str(now), "recipient_id": "4915"},
    )
    assert deliver(origin, *statuses) == {"stored": 3, "repeated": 0}
    assert deliver(origin, *statuses) == {"stored": 0, "repeated": 3}
    metrics = origin.client().get("/metrics").text
    assert 'media_origin_whatsapp_statuses_total{code="131053",status="failed"} 2.0' in metrics
    assert 'media_origin_whatsapp_statuses_total{code="none",status="delivered"} 1.0' in metrics
    assert 'media_origin_whatsapp_failure_causes_total{cause="meta_rate_limit"} 1.0' in metrics
    assert 'media_origin_whatsapp_failure_causes_total{cause="origin_http_error"} 1.0' in metrics


def test_media_id_uploads_are_counted_by_result_and_reason(world):
    origin, fake, _ = world
    auth = {"Authorization": f"Bearer {ENV['FAIL_API_TOKEN']}"}
    ask = {"path": "/campaigns/promo.png"}
    assert origin.client().post("/_whatsapp/media", params=ask, headers=auth).status_code == 201
    assert origin.client().post("/_whatsapp/media", params=ask, headers=auth).status_code == 200
    stored = origin.client().put("/campaigns/b.jpg", content=fx.encoded(), headers=auth)
    assert stored.status_code == 201, stored.text
    fake.fail_next(400)
    failed = origin.client().post(
        "/_whatsapp/media", params={"path": "/campaigns/b.jpg"}, headers=auth
    )
    assert failed.status_code == 502, failed.text
    metrics = origin.client().get("/metrics").text
    assert 'media_origin_whatsapp_media_ids_total{result="uploaded"} 1.0' in metrics
    assert 'media_origin_whatsapp_media_ids_total{result="failed"} 1.0' in metrics
    assert 'media_origin_whatsapp_media_id_failures_total{reason="provider_refused"} 1.0' in metrics
