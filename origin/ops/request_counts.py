"""The request metrics as plain integers in the worker, turned into Prometheus
families only when /metrics is scraped (a prometheus-client custom collector).

A library counter takes a lock and a label lookup on every ``inc``; counting a
request here is a few integer additions and a bucket index, several times less
(README "Performance" has the measurements). With several workers each one
publishes its counts to a file of its own in the multi-process folder, at most a
second after they moved and when it stops; a scrape adds up every worker's file,
and its own worker's live counts. A worker that died keeps its last file, so a
counter never goes back.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
from bisect import bisect_left
from collections.abc import Iterator
from pathlib import Path

from prometheus_client.metrics_core import CounterMetricFamily, HistogramMetricFamily

# Seconds from the request to the last byte handed to the server; counted in
# nanoseconds (the clock's own unit, no float made per request).
DURATION_BOUNDS = (
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
)  # fmt: skip
DURATION_BOUNDS_NS = tuple(round(bound * 1e9) for bound in DURATION_BOUNDS)
MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"  # the folder the CLI makes for --workers N
PUBLISH_DELAY = 1.0  # seconds: how stale another worker's counts may be at a scrape
FILE_PREFIX = "requests-"


class Durations:
    """One method's duration histogram: a count per bucket (the last is +Inf) and the sum."""

    __slots__ = ("counts", "total")

    def __init__(self) -> None:
        self.counts = [0] * (len(DURATION_BOUNDS) + 1)
        self.total = 0  # nanoseconds

    def observe(self, nanoseconds: int) -> None:
        self.counts[bisect_left(DURATION_BOUNDS_NS, nanoseconds)] += 1
        self.total += nanoseconds


class Tally:
    """The requests of one (method, status, folder) and the body bytes they sent."""

    __slots__ = ("durations", "requests", "sent")

    def __init__(self, durations: Durations) -> None:
        self.requests = 0
        self.sent = 0
        self.durations = durations


class RequestCounts:
    """Every request this worker answered, as plain integers (one per process: it
    outlives a reload, which makes a new access log but must not reset counters)."""

    def __init__(self) -> None:
        self.tallies: dict[tuple[str, int, str], Tally] = {}
        self.durations: dict[str, Durations] = {}
        self.meta_fetches = 0
        self._publishing: asyncio.TimerHandle | None = None
        # With several workers: counts moved and no publication is scheduled yet
        # (read per request, so a plain attribute; never true with one worker).
        self.unpublished = _folder() is not None

    def tally(self, method: str, status: int, folder: str) -> Tally:
        """The tally of one (method, status, folder), made on first use. The caller
        keeps it with its log-line pieces, so a request looks up nothing here."""
        key = (method, status, folder)
        found = self.tallies.get(key)
        if found is None:
            durations = self.durations.get(method)
            if durations is None:
                durations = self.durations[method] = Durations()
            found = self.tallies[key] = Tally(durations)
        return found

    def moved(self) -> None:
        """Counts changed: with several workers, publish them within PUBLISH_DELAY."""
        self.unpublished = False
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self.publish()
            return
        self._publishing = loop.call_later(PUBLISH_DELAY, self.publish)

    def snapshot(self) -> dict:
        return {
            "tallies": [
                [method, status, folder, t.requests, t.sent]
                for (method, status, folder), t in self.tallies.items()
            ],
            "durations": {m: [d.counts, d.total / 1e9] for m, d in self.durations.items()},
            "meta_fetches": self.meta_fetches,
        }

    def stopping(self) -> None:
        """The worker stops: its counts are published now, not by a timer that the
        stopped loop would never run."""
        if self._publishing is not None:
            self._publishing.cancel()
        self.publish()

    def publish(self) -> None:
        """This worker's counts, written whole to its own file (replaced atomically,
        so a scrape never reads half of one)."""
        self._publishing = None
        folder = _folder()
        if folder is None:
            return
        self.unpublished = True
        target = folder / f"{FILE_PREFIX}{os.getpid()}.json"
        temporary = target.with_suffix(".tmp")
        with contextlib.suppress(OSError):
            temporary.write_text(json.dumps(self.snapshot()))
            os.replace(temporary, target)

    def snapshots(self) -> Iterator[dict]:
        """This worker's live counts, and every other worker's last published ones."""
        yield self.snapshot()
        folder = _folder()
        if folder is None:
            return
        own = f"{FILE_PREFIX}{os.getpid()}.json"
        for path in folder.glob(f"{FILE_PREFIX}*.json"):
            if path.name != own:
                with contextlib.suppress(OSError, ValueError):
                    snapshot = _checked(json.loads(path.read_text()))
                    if snapshot is not None:
                        yield snapshot


def _checked(snapshot: object) -> dict | None:
    """A published snapshot, or None when it is not one this version wrote (another
    version's buckets, a hand-made file): skipped, never a failed scrape."""
    try:
        tallies = [
            (str(method), int(status), str(folder), int(count), int(sent))
            for method, status, folder, count, sent in snapshot["tallies"]
        ]
        durations = {}
        for method, (counts, total) in snapshot["durations"].items():
            if len(counts) != len(DURATION_BOUNDS) + 1:
                return None
            durations[str(method)] = [[int(n) for n in counts], float(total)]
        return {
            "tallies": tallies,
            "durations": durations,
            "meta_fetches": int(snapshot["meta_fetches"]),
        }
    except (AttributeError, KeyError, TypeError, ValueError):
        return None


def _folder() -> Path | None:
    folder = os.environ.get(MULTIPROCESS_ENV)
    return Path(folder) if folder else None


COUNTS = RequestCounts()


class RequestCollector:
    """The request families, summed over the snapshots at scrape time."""

    def __init__(self, counts: RequestCounts = COUNTS) -> None:
        self.counts = counts

    def collect(self) -> Iterator:
        requests: dict[tuple[str, str, str], int] = {}
        sent: dict[str, int] = {}
        not_modified: dict[str, int] = {}
        durations: dict[str, list] = {}
        meta = 0
        for snapshot in self.counts.snapshots():
            for method, status, folder, count, body in snapshot["tallies"]:
                key = (method, f"{status // 100}xx", folder)
                requests[key] = requests.get(key, 0) + count
                sent[folder] = sent.get(folder, 0) + body
                if status == 304:
                    not_modified[folder] = not_modified.get(folder, 0) + count
            for method, (counts, total) in snapshot["durations"].items():
                summed = durations.setdefault(method, [[0] * len(counts), 0.0])
                summed[0] = [a + b for a, b in zip(summed[0], counts, strict=True)]
                summed[1] += total
            meta += snapshot["meta_fetches"]
        yield _counter(
            "media_origin_requests_total",
            "HTTP requests answered, by method, status class and policy folder.",
            ("method", "status_class", "folder"),
            requests,
        )
        yield _counter(
            "media_origin_not_modified_total",
            "304 answers, by policy folder "
            "(their share of requests is the revalidation hit ratio).",
            ("folder",),
            {(folder,): n for folder, n in not_modified.items()},
        )
        yield _counter(
            "media_origin_response_bytes_total",
            "Body bytes sent, by policy folder.",
            ("folder",),
            {(folder,): n for folder, n in sent.items()},
        )
        histogram = HistogramMetricFamily(
            "media_origin_request_duration_seconds",
            "Time from request to the last byte handed to the server.",
            labels=("method",),
        )
        for method, (counts, total) in durations.items():
            histogram.add_metric([method], _cumulative(counts), total)
        yield histogram
        yield _counter(
            "media_origin_meta_fetches_total",
            "Requests that look like Meta's media fetcher.",
            (),
            {(): meta},
        )


def _counter(name: str, documentation: str, labels: tuple, values: dict) -> CounterMetricFamily:
    family = CounterMetricFamily(name, documentation, labels=labels)
    for label_values, value in values.items():
        family.add_metric(list(label_values), value)
    return family


def _cumulative(counts: list[int]) -> list[tuple[str, int]]:
    buckets, running = [], 0
    for bound, count in zip((*DURATION_BOUNDS, float("inf")), counts, strict=True):
        running += count
        buckets.append(("+Inf" if bound == float("inf") else repr(float(bound)), running))
    return buckets
