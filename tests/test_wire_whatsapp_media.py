"""Media IDs over real sockets: the server, pointed by [whatsapp] base_url at the
loopback provider (tests/helpers/fake_provider.py), uploads stored bytes once,
reuses the ID for the same bytes, uploads again after a replace, renews an ID
near its expiry in the background, answers from its records when the provider
is gone, refuses what Meta would refuse as the upload API does, and agrees with
a second instance over the same storage on one ID."""

import concurrent.futures
import io
import json
import time

import pytest
from PIL import Image

from origin.cloudapi.media_ids import LIFETIME
from tests.helpers import media as fx
from tests.helpers.fake_provider import FakeProvider
from tests.helpers.servers import start_server, write_config

API_TOKEN = "bridge-api-token"
WA_TOKEN = "wa-secret-token-7788"
AUTH = {"Authorization": f"Bearer {API_TOKEN}"}
ENV = {"BRIDGE_API_TOKEN": API_TOKEN, "WHATSAPP_TOKEN": WA_TOKEN, "OTHER_WA_TOKEN": WA_TOKEN + "b"}
NUMBER = "1234567890"


def config_text(fake: FakeProvider, numbers: str = f'phone_number_id = "{NUMBER}"') -> str:
    return f"""
[api]
token_env = "BRIDGE_API_TOKEN"

[whatsapp]
provider = "{fake.provider}"
base_url = "{fake.base_url}"
timeout = 3
{numbers}
"""


def serve(tmp_path, fake, numbers=None, root="media"):
    (tmp_path / root).mkdir(exist_ok=True)
    body = config_text(fake) if numbers is None else config_text(fake, numbers)
    config = write_config(tmp_path, body, root=root)
    return start_server(config, tmp_path / root, env=ENV)


def jpeg(colour=(200, 30, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), colour).save(out, format="JPEG")
    return out.getvalue()


def put(origin, path, data):
    answer = origin.client().put(path, content=data, headers=AUTH)
    assert answer.status_code in (200, 201), answer.text
    return answer


def ask_id(origin, path, **params):
    return origin.client().post("/_whatsapp/media", params={"path": path, **params}, headers=AUTH)


@pytest.fixture(params=["meta", "360dialog"])
def fake(request):
    with FakeProvider(request.param, {NUMBER: WA_TOKEN}) as provider:
        yield provider


def test_same_bytes_same_id_and_a_replace_uploads_again(tmp_path, fake):
    with serve(tmp_path, fake) as origin:
        put(origin, "/campaigns/promo.jpg", jpeg())
        first = ask_id(origin, "/campaigns/promo.jpg")
        assert first.status_code == 201, first.text
        body = first.json()
        assert set(body) == {"id", "expires_at", "number", "link", "versioned_link"}
        assert body["id"] in fake.media and body["number"] == NUMBER
        assert body["link"].endswith("/campaigns/promo.jpg") and "?v=" in body["versioned_link"]
        assert body["expires_at"].endswith("Z")
        upload = fake.media[body["id"]]
        assert upload.fields["type"] == "image/jpeg" and upload.file_name == "promo.jpg"
        again = ask_id(origin, "/campaigns/promo.jpg")
        assert again.status_code == 200 and again.json()["id"] == body["id"]
        asked = origin.client().get("/_whatsapp/media/campaigns/promo.jpg", headers=AUTH)
        assert asked.status_code == 200 and asked.json() == body
        assert len(fake.uploads()) == 1
        put(origin, "/campaigns/promo.jpg", jpeg((10, 200, 10)))  # new bytes
        stale = origin.client().get("/_whatsapp/media/campaigns/promo.jpg", headers=AUTH).json()
        assert stale["id"] is None and stale["versioned_link"] != body["versioned_link"]
        renewed = ask_id(origin, "/campaigns/promo.jpg")
        assert renewed.status_code == 201 and renewed.json()["id"] != body["id"]
        assert len(fake.uploads()) == 2
        assert WA_TOKEN not in origin.stderr() + origin.stdout()


def test_a_file_meta_would_refuse_is_refused_as_the_upload_api_does(tmp_path, fake):
    with serve(tmp_path, fake) as origin:
        (origin.root / "stickers").mkdir()
        fx.image(origin.root / "stickers/small.webp", size=(300, 300), fmt="WEBP")
        refused = ask_id(origin, "/stickers/small.webp")
        assert refused.status_code == 422, refused.text
        body = refused.json()
        assert body["error"] == "sticker_dimensions" and body["path"] == "/stickers/small.webp"
        assert body["problems"] and fake.uploads() == []
        missing = ask_id(origin, "/nope.jpg")
        assert missing.status_code == 404 and missing.json()["error"] == "not_found"


def test_only_the_token_holder_asks(tmp_path, fake):
    with serve(tmp_path, fake) as origin:
        put(origin, "/a.jpg", jpeg())
        assert (
            origin.client().post("/_whatsapp/media", params={"path": "/a.jpg"}).status_code == 401
        )
        assert origin.client().get("/_whatsapp/media/a.jpg").status_code == 401
        assert fake.uploads() == []


def test_an_id_near_its_expiry_is_renewed_in_the_background(tmp_path, fake):
    with serve(tmp_path, fake) as origin:
        put(origin, "/a.jpg", jpeg())
        first = ask_id(origin, "/a.jpg").json()
        records = list((origin.root / ".media-origin/whatsapp/ids").rglob("*.json"))
        assert len(records) == 1
        record = json.loads(records[0].read_bytes())
        record["uploaded_at"] -= LIFETIME - 2 * 86400  # 28 days old: within renew_days (3)
        records[0].write_text(json.dumps(record))
        answer = origin.client().get("/_whatsapp/media/a.jpg", headers=AUTH).json()
        assert answer["id"] == first["id"]  # still valid: handed out while renewal runs
        deadline = time.monotonic() + 10
        while len(fake.uploads()) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.2)
        renewed = origin.client().get("/_whatsapp/media/a.jpg", headers=AUTH).json()
        assert len(fake.uploads()) == 2 and renewed["id"] != first["id"]
        assert renewed["expires_at"] > answer["expires_at"]  # 30 days from now, not from then


def test_the_provider_gone_a_get_still_answers_fast_from_the_records(tmp_path):
    with FakeProvider("meta", {NUMBER: WA_TOKEN}) as fake, serve(tmp_path, fake) as origin:
        put(origin, "/a.jpg", jpeg())
        put(origin, "/b.jpg", jpeg((1, 2, 3)))
        known = ask_id(origin, "/a.jpg").json()
        fake.__exit__()
        started = time.monotonic()
        answer = origin.client().get("/_whatsapp/media/a.jpg", headers=AUTH)
        unknown = origin.client().get("/_whatsapp/media/b.jpg", headers=AUTH)
        assert time.monotonic() - started < 2
        assert answer.json()["id"] == known["id"]
        assert unknown.json()["id"] is None and unknown.json()["link"].endswith("/b.jpg")
        failed = ask_id(origin, "/b.jpg")
        assert failed.status_code == 502 and failed.json()["error"] == "provider_unreachable"
        assert WA_TOKEN not in failed.text


def test_several_numbers_each_its_own_id(tmp_path):
    numbers = (
        '[[whatsapp.numbers]]\nphone_number_id = "111"\naccess_token_env = "WHATSAPP_TOKEN"\n'
        '[[whatsapp.numbers]]\nphone_number_id = "222"\naccess_token_env = "OTHER_WA_TOKEN"\n'
    )
    tokens = {"111": WA_TOKEN, "222": WA_TOKEN + "b"}
    with FakeProvider("meta", tokens) as fake, serve(tmp_path, fake, numbers) as origin:
        put(origin, "/a.jpg", jpeg())
        unnamed = ask_id(origin, "/a.jpg")
        assert unnamed.status_code == 400 and unnamed.json()["error"] == "number_needed"
        one, two = ask_id(origin, "/a.jpg", number="111"), ask_id(origin, "/a.jpg", number="222")
        assert one.status_code == two.status_code == 201 and one.json()["id"] != two.json()["id"]
        assert {u.path for u in fake.uploads()} == {"/v23.0/111/media", "/v23.0/222/media"}
        assert ask_id(origin, "/a.jpg", number="333").status_code == 404


def test_two_instances_racing_record_one_id(tmp_path):
    with FakeProvider("meta", {NUMBER: WA_TOKEN}) as fake:
        first, second = tmp_path / "one", tmp_path / "two"
        first.mkdir(), second.mkdir()
        shared = tmp_path / "media"
        shared.mkdir()
        configs = [write_config(d, config_text(fake), root=str(shared)) for d in (first, second)]
        with (
            start_server(configs[0], shared, env=ENV) as a,
            start_server(configs[1], shared, env=ENV) as b,
        ):
            put(a, "/race.jpg", jpeg())
            with concurrent.futures.ThreadPoolExecutor(8) as pool:
                answers = list(pool.map(lambda n: ask_id((a, b)[n % 2], "/race.jpg"), range(8)))
            ids = {answer.json()["id"] for answer in answers}
            assert len(ids) == 1 and all(x.status_code in (200, 201) for x in answers)
            recorded = list((shared / ".media-origin/whatsapp/ids").rglob("*.json"))
            assert len(recorded) == 1 and json.loads(recorded[0].read_bytes())["media_id"] in ids
            deadline = time.monotonic() + 5  # the losers' extra uploads are deleted again
            while len(fake.media) > 1 and time.monotonic() < deadline:
                time.sleep(0.05)
            assert set(fake.media) == ids


def test_the_bridges_folder_is_reserved(tmp_path, fake):
    with serve(tmp_path, fake) as origin:
        put_there = origin.client().put("/_whatsapp/x.jpg", content=jpeg(), headers=AUTH)
        assert put_there.status_code == 404 and put_there.json()["error"] == "not_found"
        assert not (origin.root / "_whatsapp").exists()
        (origin.root / "_whatsapp").mkdir()
        (origin.root / "_whatsapp/x.jpg").write_bytes(jpeg())  # put there by other means
        assert origin.client().get("/_whatsapp/x.jpg").status_code == 401
        shadowed = origin.client().get("/_whatsapp/x.jpg", headers=AUTH)
        assert shadowed.status_code == 404 and shadowed.headers["content-type"].startswith(
            "application/json"
        )
        wrong = origin.client().delete("/_whatsapp/media/x.jpg", headers=AUTH)
        assert wrong.status_code == 405 and wrong.json()["error"] == "not_allowed"


def test_deleting_a_file_deletes_its_id_at_the_provider(tmp_path, fake):
    with serve(tmp_path, fake) as origin:
        put(origin, "/gone.jpg", jpeg())
        media_id = ask_id(origin, "/gone.jpg").json()["id"]
        assert origin.client().delete("/gone.jpg", headers=AUTH).status_code == 204
        deadline = time.monotonic() + 5
        while media_id not in fake.deleted and time.monotonic() < deadline:
            time.sleep(0.05)
        assert fake.deleted == [media_id]
        assert list((origin.root / ".media-origin/whatsapp/ids").rglob("*.json")) == []


def test_a_provider_refusing_the_delete_does_not_fail_the_files(tmp_path):
    with FakeProvider("meta", {NUMBER: WA_TOKEN}) as fake, serve(tmp_path, fake) as origin:
        put(origin, "/gone.jpg", jpeg())
        ask_id(origin, "/gone.jpg")
        fake.fail_next(400)
        assert origin.client().delete("/gone.jpg", headers=AUTH).status_code == 204
        deadline = time.monotonic() + 5
        while "deleting media ID" not in origin.stderr() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert "deleting media ID" in origin.stderr() and WA_TOKEN not in origin.stderr()
        assert not (origin.root / "gone.jpg").exists()


def test_an_id_two_paths_share_is_deleted_with_the_last_of_them(tmp_path):
    """Same bytes, same ID (the key is the content hash): deleting one of the files
    must not take the ID from under the other, whose sender was promised 30 days."""
    with FakeProvider("meta", {NUMBER: WA_TOKEN}) as fake, serve(tmp_path, fake) as origin:
        put(origin, "/p/a.jpg", jpeg())
        put(origin, "/p/b.jpg", jpeg())
        first = ask_id(origin, "/p/a.jpg").json()["id"]
        assert ask_id(origin, "/p/b.jpg").json()["id"] == first and len(fake.uploads()) == 1
        assert origin.client().delete("/p/a.jpg", headers=AUTH).status_code == 204
        time.sleep(0.3)  # what a background delete would have taken
        still = origin.client().get("/_whatsapp/media/p/b.jpg", headers=AUTH).json()
        assert still["id"] == first and fake.deleted == []
        assert origin.client().delete("/p/b.jpg", headers=AUTH).status_code == 204
        deadline = time.monotonic() + 5
        while not fake.deleted and time.monotonic() < deadline:
            time.sleep(0.05)
        assert fake.deleted == [first]
        assert list((origin.root / ".media-origin/whatsapp/ids").rglob("*.json")) == []


def test_a_percent_encoded_name_is_asked_for_as_it_is_served(tmp_path):
    with FakeProvider("meta", {NUMBER: WA_TOKEN}) as fake, serve(tmp_path, fake) as origin:
        (origin.root / "p").mkdir()
        (origin.root / "p/a%41.jpg").write_bytes(jpeg())  # the name has a literal %41
        assert origin.client().get("/p/a%2541.jpg").status_code == 200
        made = ask_id(origin, "/p/a%41.jpg")
        assert made.status_code == 201, made.text
        asked = origin.client().get("/_whatsapp/media/p/a%2541.jpg", headers=AUTH)
        assert asked.status_code == 200 and asked.json()["id"] == made.json()["id"]


def test_a_broken_store_is_an_answer_and_a_logged_error_not_a_bare_500(tmp_path):
    """The records' folder made a file: every read and write of it fails."""
    with FakeProvider("meta", {NUMBER: WA_TOKEN}) as fake, serve(tmp_path, fake) as origin:
        put(origin, "/a.jpg", jpeg())
        (origin.root / ".media-origin/whatsapp").mkdir(parents=True, exist_ok=True)
        (origin.root / ".media-origin/whatsapp/ids").write_text("not a folder")
        asked = origin.client().get("/_whatsapp/media/a.jpg", headers=AUTH)
        assert asked.status_code == 500 and "server log" in asked.text
        assert "GET /_whatsapp/media/a.jpg failed" in origin.stderr()
        assert "Traceback" in origin.stderr() and WA_TOKEN not in origin.stderr()
        assert origin.client().get("/a.jpg").status_code == 200  # serving goes on


def test_in_a_signed_folder_the_links_handed_out_are_signed_and_work(tmp_path):
    """The fallback must be a link Meta can fetch: an unsigned one there is a 403."""
    with FakeProvider("meta", {NUMBER: WA_TOKEN}) as fake:
        (tmp_path / "media").mkdir()
        text = config_text(fake).replace(
            '[api]\ntoken_env = "BRIDGE_API_TOKEN"',
            '[api]\ntoken_env = "BRIDGE_API_TOKEN"\nsigning_key_env = "BRIDGE_SIGNING_KEY"',
        )
        config = write_config(tmp_path, text + '\n[policy."/inv"]\nsigned = true\n')
        env = {**ENV, "BRIDGE_SIGNING_KEY": "bridge-signing-key"}
        with start_server(config, tmp_path / "media", env=env) as origin:
            put(origin, "/inv/x.jpg", jpeg())
            assert origin.client().get("/inv/x.jpg").status_code == 403  # unsigned
            answer = origin.client().get("/_whatsapp/media/inv/x.jpg", headers=AUTH).json()
            for link in (answer["link"], answer["versioned_link"]):
                assert "sig=" in link, link
                fetched = origin.client().get(link.removeprefix("http://127.0.0.1:8080"))
                assert fetched.status_code == 200, link
