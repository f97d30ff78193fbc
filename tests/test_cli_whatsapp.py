"""``media-origin whatsapp upload|renew|message`` against the loopback provider
(tests/helpers/fake_provider.py), over a storage of the bundled samples: IDs
uploaded once and reused, renewed when due or when asked (a 429 waited out, a
400 not retried), and the send-media body of each media type, by ID and by
link, posted with --send."""

import json
import shutil
import time

import pytest

from origin.cli.main import main
from origin.cloudapi.media_ids import LIFETIME
from origin.serve.links import verify
from tests.helpers import media as fx
from tests.helpers.fake_provider import FakeProvider
from tests.helpers.servers import REPO

TOKEN = "cli-wa-token-4411"
NUMBER = "1234567890"
SAMPLES = {
    "/campaigns/promo.png": "image",
    "/video/teaser.mp4": "video",
    "/voice/greeting.ogg": "audio",
    "/catalog/price-list.pdf": "document",
    "/stickers/hello.webp": "sticker",
}
TO = "+49 151 2345678"


@pytest.fixture(params=["meta", "360dialog"])
def fake(request):
    with FakeProvider(request.param, {NUMBER: TOKEN, "222": TOKEN + "b"}) as provider:
        yield provider


def storage_with_samples(tmp_path):
    root = tmp_path / "media"
    for name in SAMPLES:
        (root / name[1:]).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(REPO / "media" / name[1:], root / name[1:])
    return root


@pytest.fixture
def setup(tmp_path, fake, monkeypatch):
    """(run, storage root): ``run(*arguments)`` is the command's (exit, stdout, stderr)."""
    monkeypatch.setenv("WHATSAPP_TOKEN", TOKEN)
    root = storage_with_samples(tmp_path)
    config = tmp_path / "config.toml"
    config.write_text(
        f'[storage]\nroot = "media"\n\n[whatsapp]\nprovider = "{fake.provider}"\n'
        f'base_url = "{fake.base_url}"\nphone_number_id = "{NUMBER}"\ntimeout = 5\n'
    )
    return command_runner(config), root


def command_runner(config):
    def run(capsys, *arguments):
        action, *rest = arguments
        code = main(["whatsapp", action, "--config", str(config), *rest])
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run


def age(root, days):
    """Every ID record made ``days`` older (the clock is the record's, not slept)."""
    for record in (root / ".media-origin/whatsapp/ids").rglob("*.json"):
        body = json.loads(record.read_bytes())
        body["uploaded_at"] -= days * 86400
        record.write_text(json.dumps(body))


def test_upload_prints_the_ids_and_reuses_them_for_the_same_bytes(setup, fake, capsys):
    run, _ = setup
    code, out, _ = run(capsys, "upload", "/campaigns/promo.png", "/catalog")
    assert code == 0, out
    lines = out.splitlines()
    assert lines[0].startswith("uploaded /campaigns/promo.png: ") and f"number {NUMBER}" in lines[0]
    assert lines[1].startswith("uploaded /catalog/price-list.pdf: ")
    assert lines[-1] == "2 IDs: 2 uploaded, 0 failed"
    assert sorted(call.fields["type"] for call in fake.uploads()) == [
        "application/pdf",
        "image/png",
    ]
    code, out, _ = run(capsys, "upload", "--json", "/campaigns/promo.png")
    [again] = json.loads(out)
    assert code == 0 and again["state"] == "reused" and again["id"] in fake.media
    assert set(again) == {"path", "state", "id", "expires_at", "number", "link", "versioned_link"}
    assert len(fake.uploads()) == 2


def test_upload_of_a_file_meta_would_refuse_fails_with_the_reason(setup, fake, capsys):
    run, root = setup
    fx.image(root / "stickers/small.webp", size=(300, 300), fmt="WEBP")  # not 512x512
    code, out, _ = run(capsys, "upload", "/stickers/small.webp", "/campaigns/promo.png")
    assert code == 1
    assert any(line.startswith("failed /stickers/small.webp: ") for line in out.splitlines())
    assert out.splitlines()[-1] == "2 IDs: 1 uploaded, 1 failed"
    assert len(fake.uploads()) == 1


def test_renew_renews_what_is_due_or_everything_older_than_asked(setup, fake, capsys):
    run, root = setup
    run(capsys, "upload", "/campaigns/promo.png")
    code, out, _ = run(capsys, "renew")
    assert code == 0 and out == "no IDs to renew\n"
    age(root, 28)  # within renew_days (3) of the 30-day expiry
    run(capsys, "upload", "/catalog/price-list.pdf")  # fresh: not due
    code, out, _ = run(capsys, "renew", "--json")
    [renewed] = json.loads(out)
    assert code == 0 and renewed["state"] == "renewed" and renewed["path"] == "/campaigns/promo.png"
    assert len(fake.uploads()) == 3
    code, out, _ = run(capsys, "renew", "--older-than", "0")
    assert code == 0 and out.splitlines()[-1] == "2 IDs: 2 renewed, 0 failed"
    assert len(fake.uploads()) == 5


def test_renew_skips_a_file_replaced_or_removed_since(setup, fake, capsys):
    run, root = setup
    run(capsys, "upload", "/campaigns/promo.png", "/catalog/price-list.pdf")
    (root / "campaigns/promo.png").write_bytes((root / "stickers/hello.webp").read_bytes())
    (root / "catalog/price-list.pdf").unlink()
    code, out, _ = run(capsys, "renew", "--older-than", "0", "--json")
    states = {o["path"]: (o["state"], o["error"]["message"]) for o in json.loads(out)}
    assert code == 0 and len(fake.uploads()) == 2
    assert (
        states["/campaigns/promo.png"][0] == "skipped"
        and "replaced" in states["/campaigns/promo.png"][1]
    )
    assert states["/catalog/price-list.pdf"] == ("skipped", "the file is no longer stored")


def test_renew_waits_out_a_429_and_does_not_retry_a_400(setup, fake, capsys, caplog):
    run, _ = setup
    run(capsys, "upload", "/campaigns/promo.png")
    fake.fail_next(429)
    code, out, err = run(capsys, "renew", "--older-than", "0")
    assert code == 0 and out.startswith("renewed /campaigns/promo.png"), out + err
    first, second = fake.uploads()[-2:]
    assert second.at - first.at >= 0.2  # the first wait, at least 0.2 s
    # stderr, through the logger (pytest takes the record before it gets there)
    assert "answered 429; trying again" in caplog.text and TOKEN not in caplog.text + err
    before = len(fake.calls)
    fake.fail_next(400)
    code, out, err = run(capsys, "renew", "--older-than", "0")
    assert code == 1 and out.startswith("failed /campaigns/promo.png: the provider answered 400")
    assert len(fake.calls) == before + 1  # one attempt: a 400 is final


@pytest.mark.parametrize(("path", "kind"), SAMPLES.items())
def test_the_message_body_of_each_media_type_by_link_and_by_id(setup, fake, capsys, path, kind):
    run, _ = setup
    code, out, err = run(capsys, "message", path, "--to", TO, "--by", "link")
    assert code == 0, err
    body = json.loads(out)
    media = body.pop(kind)
    assert body == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "491512345678",
        "type": kind,
    }
    assert media.pop("link").startswith("http://127.0.0.1:8080" + path + "?v=")
    assert media == ({"filename": "price-list.pdf"} if kind == "document" else {})
    code, out, err = run(capsys, "message", path, "--to", TO)  # by ID: the default
    by_id = json.loads(out)[kind]
    assert code == 0 and by_id["id"] in fake.media, err
    assert fake.media[by_id["id"]].file_sha256 is not None
    assert len(fake.uploads()) == 1 and fake.sent == []


def test_a_caption_goes_where_whatsapp_shows_one(setup, fake, capsys):
    run, _ = setup
    code, out, _ = run(
        capsys, "message", "video/teaser.mp4", "--to", TO, "--by", "link", "--caption", "New!"
    )
    assert code == 0 and json.loads(out)["video"]["caption"] == "New!"  # the first / optional
    code, out, err = run(capsys, "message", "/voice/greeting.ogg", "--to", TO, "--caption", "x")
    assert code == 2 and out == "" and err.count("\n") == 1
    assert err.startswith("media-origin whatsapp message: WhatsApp shows no caption on audio")
    code, _, err = run(capsys, "message", "/campaigns/promo.png", "--to", "call me")
    assert code == 2 and "E.164" in err and err.count("\n") == 1
    assert fake.uploads() == []  # a body that cannot be sent uploads nothing first


def test_send_posts_the_body_as_printed_and_prints_the_wamid(setup, fake, capsys):
    run, root = setup
    code, out, err = run(capsys, "message", "/catalog/price-list.pdf", "--to", TO, "--send")
    assert code == 0, err
    wamid = out.strip()
    assert wamid.startswith("wamid.") and out.count("\n") == 1
    [sent] = fake.sent
    assert sent == json.loads(err) and sent["document"]["id"] in fake.media
    [call] = [c for c in fake.calls if c.path.endswith("/messages")]
    expected = f"/v23.0/{NUMBER}/messages" if fake.provider == "meta" else "/messages"
    assert call.path == expected
    records = list((root / ".media-origin/whatsapp/sent").glob("*.json"))
    assert [json.loads(r.read_bytes())["path"] for r in records] == ["/catalog/price-list.pdf"]


def test_a_refused_send_is_one_line_and_exit_1(setup, fake, capsys):
    run, _ = setup
    run(capsys, "upload", "/campaigns/promo.png")
    fake.fail_next(400)
    code, out, err = run(capsys, "message", "/campaigns/promo.png", "--to", TO, "--send")
    assert code == 1 and out == ""
    assert err.splitlines()[-1].startswith("media-origin whatsapp message: the provider answered")


def test_a_rejected_file_gets_no_message(setup, fake, capsys):
    run, root = setup
    (root / "big.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 64)
    code, out, err = run(capsys, "message", "/big.png", "--to", TO, "--by", "link")
    assert code == 1 and out == "" and "WhatsApp would refuse it" in err
    code, out, err = run(capsys, "message", "/missing.jpg", "--to", TO)
    assert code == 1 and "no file is stored at /missing.jpg" in err
    assert fake.uploads() == []


def test_several_numbers_need_one_named(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("WA_ONE", TOKEN)
    monkeypatch.setenv("WA_TWO", TOKEN + "b")
    with FakeProvider("meta", {NUMBER: TOKEN, "222": TOKEN + "b"}) as fake:
        storage_with_samples(tmp_path)
        config = tmp_path / "config.toml"
        config.write_text(
            f'[storage]\nroot = "media"\n\n[whatsapp]\nbase_url = "{fake.base_url}"\n\n'
            f'[[whatsapp.numbers]]\nphone_number_id = "{NUMBER}"\naccess_token_env = "WA_ONE"\n\n'
            '[[whatsapp.numbers]]\nphone_number_id = "222"\naccess_token_env = "WA_TWO"\n'
        )
        run = command_runner(config)
        code, out, err = run(capsys, "upload", "/campaigns/promo.png")
        assert code == 2 and out == "" and f"({NUMBER}, 222)" in err and err.count("\n") == 1
        code, out, _ = run(capsys, "upload", "--number", "222", "--json", "/campaigns/promo.png")
        assert code == 0 and json.loads(out)[0]["number"] == "222"
        assert fake.uploads()[0].path == "/v23.0/222/media"


def test_without_a_whatsapp_table_the_commands_say_so(tmp_path, capsys):
    storage_with_samples(tmp_path)
    config = tmp_path / "config.toml"
    config.write_text('[storage]\nroot = "media"\n')
    run = command_runner(config)
    code, out, err = run(capsys, "upload", "/campaigns/promo.png")
    assert code == 2 and out == "" and "no [whatsapp] table" in err
    code, out, err = run(capsys, "message", "/campaigns/promo.png", "--to", TO)
    assert code == 0 and "link" in json.loads(out)["image"]  # by link, needing no provider


def test_an_id_past_its_lifetime_is_uploaded_again(setup, fake, capsys):
    run, root = setup
    run(capsys, "upload", "/campaigns/promo.png")
    age(root, LIFETIME / 86400)
    code, out, _ = run(capsys, "upload", "/campaigns/promo.png")
    assert code == 0 and out.startswith("uploaded ") and len(fake.uploads()) == 2


def test_a_link_into_a_signed_folder_is_a_signed_one(tmp_path, monkeypatch, capsys):
    """Meta's fetch of an unsigned link there would be a 403: a 131053 later."""
    monkeypatch.setenv("CLI_SIGNING_KEY", "cli-signing-key")
    storage_with_samples(tmp_path)
    config = tmp_path / "config.toml"
    config.write_text(
        '[storage]\nroot = "media"\n\n[api]\nsigning_key_env = "CLI_SIGNING_KEY"\n\n'
        '[policy."/catalog"]\nsigned = true\n'
    )
    run = command_runner(config)
    code, out, err = run(capsys, "message", "/catalog/price-list.pdf", "--to", TO, "--by", "link")
    assert code == 0, err
    link = json.loads(out)["document"]["link"]
    path, _, query = link.removeprefix("http://127.0.0.1:8080").partition("?")
    assert verify(b"cli-signing-key", path, query, time.time()) is None  # valid, for a day
    assert verify(b"cli-signing-key", path, query, time.time() + 2 * 86400) is not None
    code, out, _ = run(capsys, "message", "/campaigns/promo.png", "--to", TO, "--by", "link")
    assert "?v=" in json.loads(out)["image"]["link"]  # not signed: the versioned link
