"""How Meta reads a response's caching headers and what makes its fetch fail."""

import json
import subprocess
import sys

import pytest

from origin.whatsapp.responses import check_response, meta_caching
from tests.helpers.servers import REPO

LM = "Tue, 22 Feb 2022 22:22:22 GMT"


@pytest.mark.parametrize(
    ("headers", "cached", "ttl", "revalidates", "codes"),
    [
        ({"cache-control": "max-age=604800"}, True, 604800, False, set()),
        ({"cache-control": "max-age=604800", "last-modified": LM}, True, 604800, False, set()),
        ({"cache-control": "no-cache", "last-modified": LM}, True, None, True, set()),
        ({"cache-control": "no-cache"}, True, None, True, {"no_cache_without_last_modified"}),
        ({"cache-control": "no-store"}, False, None, False, {"not_cacheable"}),
        ({"cache-control": "private, max-age=60"}, False, None, False, {"not_cacheable"}),
        ({}, False, None, False, {"not_cacheable"}),
        ({"etag": '"33a64df5"'}, None, None, False, set()),
        ({"cache-control": "max-age=60", "etag": '"x"'}, True, 60, False, set()),
        ({"last-modified": LM, "etag": '"x"'}, None, None, False, set()),
        ({"cache-control": "public"}, None, None, False, set()),
        ({"cache-control": "max-age=60, bogus=(1"}, True, 60, False, set()),  # lenient
    ],
)
def test_meta_caching(headers, cached, ttl, revalidates, codes):
    view, problems = meta_caching(headers)
    assert (view.cached, view.ttl_seconds, view.revalidates) == (cached, ttl, revalidates)
    assert {p.code for p in problems} == codes
    assert "exact URL" in view.summary  # the current documented behaviour is always said


@pytest.mark.parametrize(
    ("headers", "ignored"),
    [
        # the shipped config's answer: max-age, Last-Modified and a strong ETag
        ({"cache-control": "max-age=86400", "last-modified": LM, "etag": '"x"'}, True),
        ({"last-modified": LM, "etag": '"x"'}, True),
        ({"etag": '"x"'}, False),
        ({"cache-control": "max-age=60"}, False),
    ],
)
def test_an_ignored_etag_is_a_fact_not_a_problem(headers, ignored):
    """Normal for the shipped config: said in --json, never listed as a problem."""
    view, problems = meta_caching(headers)
    assert view.etag_ignored is ignored
    assert view.to_json()["etag_ignored"] is ignored
    assert "etag_ignored" not in {p.code for p in problems}


@pytest.mark.parametrize(
    ("status", "fix"),
    [(404, "upload the file there"), (403, "must be public"), (502, "see its log")],
)
def test_an_http_error_says_what_to_do(status, fix):
    (problem,) = check_response(status, {}, None)
    assert problem.code == "http_error" and f"HTTP {status}" in problem.message
    assert fix in problem.message


def test_levels():
    _, problems = meta_caching({"cache-control": "no-cache"})
    assert problems[0].level == "error"
    _, problems = meta_caching({})
    assert problems[0].level == "warning"
    _, problems = meta_caching({"cache-control": "private"})
    assert problems[0].level == "info"


JPEG = {"content-type": "image/jpeg", "content-length": "100"}


@pytest.mark.parametrize(
    ("status", "headers", "sniffed", "codes"),
    [
        (200, JPEG, "image/jpeg", set()),
        (302, {"location": "https://x/y.jpg"}, None, {"redirect"}),
        (301, {}, None, {"redirect"}),
        (404, {"content-type": "text/html"}, "text/html", {"http_error", "html_response"}),
        (503, {"content-type": "text/plain"}, "text/plain", {"http_error"}),
        (200, {"content-type": "text/html", "content-length": "5"}, "text/html", {"html_response"}),
        (200, JPEG, "image/png", {"content_type_mismatch"}),
        (
            200,
            {"content-type": "audio/opus", "content-length": "9"},
            "audio/ogg",
            {"unsupported_type"},
        ),
        (200, {"content-type": "image/jpeg"}, "image/jpeg", {"no_content_length"}),
        (
            200,
            {"content-type": "image/jpeg", "content-length": "6200000"},
            "image/jpeg",
            {"too_large"},
        ),
        (
            200,
            {"content-type": "audio/ogg; codecs=opus", "content-length": "9"},
            "audio/ogg",
            set(),
        ),
    ],
)
def test_check_response(status, headers, sniffed, codes):
    assert {p.code for p in check_response(status, headers, sniffed)} == codes


@pytest.mark.parametrize(
    "cache_control", ["max-age=abc", 'max-age="60"', "max-age=" + "9" * 5_000, "max-age=²"]
)
def test_a_hostile_max_age_is_read_never_a_crash(cache_control):
    view, _ = meta_caching({"cache-control": cache_control})
    assert view.ttl_seconds is None or 0 <= view.ttl_seconds <= 2**31


@pytest.mark.parametrize("length", ["9" * 5_000, "²", "-1"])
def test_a_hostile_content_length_is_no_length(length):
    problems = check_response(200, {"content-type": "image/jpeg", "content-length": length}, None)
    assert "no_content_length" in {p.code for p in problems}


# Every problem of level error or warning says what to do about it.
FIXES = ("send ", "serve ", "link to ", "use ", "make it", "check the", "see its", "must be")


@pytest.mark.parametrize(
    ("status", "headers", "sniffed"),
    [
        (200, {}, "image/jpeg"),
        (200, {"cache-control": "no-cache"}, "image/jpeg"),
        (200, {"content-type": "text/html"}, "text/html"),
        (200, {"content-type": "image/gif", "content-length": "9"}, "image/gif"),
        (200, {"content-type": "audio/ogg", "content-length": "9"}, "audio/ogg"),
        (200, {"content-type": "image/jpeg", "content-length": "9"}, "image/png"),
        (200, {"content-type": "image/jpeg"}, "image/jpeg"),
        (200, {"content-type": "image/jpeg", "content-length": "6200000"}, "image/jpeg"),
        (302, {"location": "/x.jpg"}, None),
        (500, {}, None),
    ],
)
def test_every_error_and_warning_names_the_fix(status, headers, sniffed):
    _, problems = meta_caching(headers)
    problems += check_response(status, headers, sniffed)
    said = [p for p in problems if p.level in ("error", "warning")]
    assert said
    for problem in said:
        assert any(fix in problem.message for fix in FIXES), problem


def test_responses_imports_no_file_checks():
    """The link checks are pure: importing them loads the vocabulary and the
    rules, never the file checks, Pillow or mutagen (a fresh interpreter, since
    this one has loaded them all)."""
    code = (
        "import json, sys\n"
        "import origin.whatsapp.responses\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    loaded = set(json.loads(result.stdout))
    assert "origin.whatsapp.problems" in loaded
    assert {name for name in loaded if name.split(".")[0] in ("PIL", "mutagen")} == set()
    checks = ("inspection", "images", "audio", "audio_framing", "video", "isobmff")
    assert {module for module in checks if f"origin.whatsapp.{module}" in loaded} == set()
