"""origin/upload/refusal.py: which problem a refusal names, its status, and the
JSON fields a refusal sends (the public contract)."""

import asyncio

import pytest

from origin.upload.refusal import Refused, refusal, send_refusal, split_path
from origin.whatsapp.problems import ERROR, WARNING, Problem


def problem(code: str, level: str = ERROR) -> Problem:
    return Problem(code, level, f"{code} message")


@pytest.mark.parametrize(
    ("codes", "force", "expected"),
    [
        ([], False, None),
        (["sticker_dimensions"], False, (422, "sticker_dimensions")),
        (["sticker_dimensions"], True, None),
        (["unsupported_type"], False, (415, "unsupported_type")),
        (["content_type_mismatch"], False, (415, "content_type_mismatch")),
        (["sticker_dimensions", "too_large"], False, (413, "too_large")),
        (["too_large", "active_content"], False, (415, "active_content")),
        (["too_large", "active_content"], True, (415, "active_content")),
    ],
)
def test_which_problem_a_refusal_names(codes, force, expected):
    problems = [problem(code) for code in codes] + [problem("a_warning", WARNING)]
    refused = refusal(problems, force, "/a.jpg")
    if expected is None:
        assert refused is None
    else:
        assert (refused.status, refused.code) == expected
        assert refused.message == f"{expected[1]} message"
        assert [p.level for p in refused.problems] == [ERROR] * len(refused.problems)


def test_a_refusal_is_sent_as_json_with_its_four_fields():
    sent = []

    async def send(message):
        sent.append(message)

    refused = Refused(415, "unsupported_type", "why and the fix", "/a.gif", [problem("x")])
    asyncio.run(send_refusal(send, refused))
    assert sent[0]["status"] == 415
    assert (b"connection", b"close") in sent[0]["headers"]
    assert sent[1]["body"] == (
        b'{"error": "unsupported_type", "message": "why and the fix", "path": "/a.gif", '
        b'"problems": [{"code": "x", "level": "error", "message": "x message"}]}\n'
    )
    sent.clear()
    asyncio.run(send_refusal(send, refused, close=False))
    assert (b"connection", b"close") not in sent[0]["headers"]


def test_split_path():
    assert split_path("/campaigns/promo.jpg") == ("/campaigns/", "promo.jpg")
    assert split_path("/promo.jpg") == ("/", "promo.jpg")
