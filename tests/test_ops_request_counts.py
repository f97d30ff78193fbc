"""``origin.ops.request_counts``: plain counts per worker, Prometheus families
only at scrape time, and several workers' counts added up through their files."""

import pytest
from hypothesis import given
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from origin.ops.request_counts import (
    DURATION_BOUNDS,
    RequestCollector,
    RequestCounts,
)


def scrape(counts: RequestCounts) -> dict[tuple, float]:
    registry = CollectorRegistry()
    registry.register(RequestCollector(counts))
    text = generate_latest(registry).decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def count(counts: RequestCounts, method: str, status: int, folder: str, sent: int, ns: int):
    tally = counts.tally(method, status, folder)
    tally.requests += 1
    tally.sent += sent
    tally.durations.observe(ns)


def test_the_families_are_made_from_the_counts_at_scrape_time(monkeypatch):
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    counts = RequestCounts()
    count(counts, "GET", 200, "/a", 100, 200_000)  # 0.2 ms
    count(counts, "GET", 206, "/a", 10, 3_000_000)  # 3 ms
    count(counts, "GET", 304, "/a", 0, 100_000)
    count(counts, "GET", 404, "/b", 12, 100_000)
    counts.meta_fetches += 1
    values = scrape(counts)
    assert (
        values[
            (
                "media_origin_requests_total",
                (("folder", "/a"), ("method", "GET"), ("status_class", "2xx")),
            )
        ]
        == 2
    )
    assert (
        values[
            (
                "media_origin_requests_total",
                (("folder", "/a"), ("method", "GET"), ("status_class", "3xx")),
            )
        ]
        == 1
    )
    assert (
        values[
            (
                "media_origin_requests_total",
                (("folder", "/b"), ("method", "GET"), ("status_class", "4xx")),
            )
        ]
        == 1
    )
    assert values[("media_origin_not_modified_total", (("folder", "/a"),))] == 1
    assert ("media_origin_not_modified_total", (("folder", "/b"),)) not in values
    assert values[("media_origin_response_bytes_total", (("folder", "/a"),))] == 110
    assert values[("media_origin_meta_fetches_total", ())] == 1
    bucket = "media_origin_request_duration_seconds_bucket"
    assert values[(bucket, (("le", "0.0005"), ("method", "GET")))] == 3
    assert values[(bucket, (("le", "0.0025"), ("method", "GET")))] == 3
    assert values[(bucket, (("le", "0.005"), ("method", "GET")))] == 4
    assert values[(bucket, (("le", "+Inf"), ("method", "GET")))] == 4
    assert values[("media_origin_request_duration_seconds_count", (("method", "GET"),))] == 4
    total = values[("media_origin_request_duration_seconds_sum", (("method", "GET"),))]
    assert abs(total - 0.0034) < 1e-9


@given(st.lists(st.integers(min_value=0, max_value=60_000_000_000), max_size=50))
def test_each_bucket_holds_the_durations_at_or_under_its_bound(durations):
    counts = RequestCounts()
    counts.unpublished = False
    for nanoseconds in durations:
        count(counts, "GET", 200, "/", 0, nanoseconds)
    values = scrape(counts) if durations else {}
    for bound in DURATION_BOUNDS:
        key = (
            "media_origin_request_duration_seconds_bucket",
            (("le", repr(float(bound))), ("method", "GET")),
        )
        expected = sum(1 for ns in durations if ns <= round(bound * 1e9))
        assert values.get(key, 0) == expected


def test_a_duration_on_a_bound_is_in_that_bucket_and_one_past_it_is_not():
    counts = RequestCounts()
    counts.unpublished = False
    count(counts, "GET", 200, "/", 0, 500_000)  # exactly 0.0005 s: le="0.0005"
    count(counts, "GET", 200, "/", 0, 500_001)  # just past it: le="0.001"
    bucket = "media_origin_request_duration_seconds_bucket"
    values = scrape(counts)
    assert values[(bucket, (("le", "0.0005"), ("method", "GET")))] == 1
    assert values[(bucket, (("le", "0.001"), ("method", "GET")))] == 2


def test_several_workers_are_added_up_through_their_files(tmp_path, monkeypatch):
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    other, own = RequestCounts(), RequestCounts()
    assert other.unpublished and own.unpublished  # several workers: publish when moved
    count(other, "GET", 200, "/a", 5, 1000)
    other.moved()  # no event loop here: published at once
    [published] = list(tmp_path.glob("requests-*.json"))
    # The scraping worker reads the others' files and its own live counts; a file
    # of its own pid is its own stale copy, so here "own" must not read "other"'s
    # file as its own: give the file another worker's name.
    published.rename(tmp_path / "requests-999999999.json")
    count(own, "GET", 200, "/a", 7, 1000)
    values = scrape(own)
    key = (
        "media_origin_requests_total",
        (("folder", "/a"), ("method", "GET"), ("status_class", "2xx")),
    )
    assert values[key] == 2
    assert values[("media_origin_response_bytes_total", (("folder", "/a"),))] == 12


@pytest.mark.parametrize(
    "text",
    [
        '{"tallies": [',  # torn
        "{}",
        "[]",
        "null",
        '{"tallies": [], "durations": {"GET": [[1, 2], 0.1]}, "meta_fetches": 0}',  # buckets
        '{"tallies": [["GET", "x", "/", 1, 1]], "durations": {}, "meta_fetches": 0}',
    ],
)
def test_a_torn_or_foreign_file_is_skipped_not_fatal(tmp_path, monkeypatch, text):
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    (tmp_path / "requests-1.json").write_text(text)
    counts = RequestCounts()
    count(counts, "GET", 200, "/", 1, 1)
    assert (
        scrape(counts)[
            (
                "media_origin_requests_total",
                (("folder", "/"), ("method", "GET"), ("status_class", "2xx")),
            )
        ]
        == 1
    )
