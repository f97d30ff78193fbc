"""Prometheus metrics: the per-request families as plain counts collected at
scrape time (``origin.ops.request_counts``), and the rarer events (uploads,
storage operations) with prometheus-client's own counters and histograms.

With several worker processes the CLI points PROMETHEUS_MULTIPROC_DIR at a
fresh folder before the workers start, and /metrics aggregates what every
worker wrote there: prometheus-client's multi-process mode for its own metrics,
the request counts' files for theirs.
"""

from __future__ import annotations

import os
import time

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)

from origin.cloudapi.webhooks import Status, cause_of, first_error
from origin.ops.request_counts import MULTIPROCESS_ENV, RequestCollector

UPLOADS = Counter(
    "media_origin_uploads_total", "Uploaded files, by result (stored or refused).", ("result",)
)
REJECTIONS = Counter(
    "media_origin_upload_rejections_total", "Refused uploads, by the rule's code.", ("reason",)
)
MEDIA_IDS = Counter(
    "media_origin_whatsapp_media_ids_total",
    "Media-ID uploads, by result (uploaded, renewed or failed).",
    ("result",),
)
MEDIA_ID_FAILURES = Counter(
    "media_origin_whatsapp_media_id_failures_total",
    "Media-ID uploads that failed, by reason (the refusal's code).",
    ("reason",),
)
STATUSES = Counter(
    "media_origin_whatsapp_statuses_total",
    "Webhook statuses kept (each once), by status and first error code.",
    ("status", "code"),
)
FAILURE_CAUSES = Counter(
    "media_origin_whatsapp_failure_causes_total",
    "Failed messages from the status webhooks, by classified cause.",
    ("cause",),
)
# Status names counted under their own name: only an authenticated delivery is
# counted, but a label set is kept for the life of the process, so bounded anyway.
KNOWN_STATUSES = frozenset({"sent", "delivered", "read", "failed", "deleted", "warning"})
STORAGE_LATENCY = Histogram(
    "media_origin_storage_operation_seconds",
    "Storage operations, by operation.",
    ("operation",),
    buckets=(0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5),
)
STORAGE_ERRORS = Counter(
    "media_origin_storage_errors_total", "Storage operations that failed.", ("operation",)
)


REGISTRY.register(RequestCollector())


def exposition() -> tuple[bytes, str]:
    """The text format, aggregated over worker processes when there are several."""
    if os.environ.get(MULTIPROCESS_ENV):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        registry.register(RequestCollector())
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(), CONTENT_TYPE_LATEST


def count_uploads(stored: int, refused_code: str | None) -> None:
    """The uploads stored and refused, and why (the upload API calls it)."""
    if stored:
        UPLOADS.labels("stored").inc(stored)
    if refused_code is not None:
        UPLOADS.labels("refused").inc()
        REJECTIONS.labels(refused_code).inc()


def count_media_ids(result: str, reason: str | None) -> None:
    """One media-ID upload done (``uploaded``, ``renewed``) or ``failed``, and why."""
    MEDIA_IDS.labels(result).inc()
    if reason is not None:
        MEDIA_ID_FAILURES.labels(reason).inc()


def count_statuses(statuses: list[Status]) -> None:
    """Statuses newly kept from a webhook delivery (a repeat is not counted again)."""
    for status in statuses:
        error = first_error(status)
        code = error.code if error is not None else None
        STATUSES.labels(
            status.status if status.status in KNOWN_STATUSES else "other",
            str(code) if code is not None and 0 <= code < 10_000_000 else "none",
        ).inc()
        cause = cause_of(status)
        if cause is not None:
            FAILURE_CAUSES.labels(cause).inc()


class InstrumentedStorage:
    """A storage whose operations are timed and whose failures are counted."""

    def __init__(self, storage) -> None:
        self._storage = storage
        self.records = storage.records  # a job's few small writes: not worth timing
        self._stat_time = STORAGE_LATENCY.labels("stat")

    async def stat(self, path):
        # The hot path: one timer, no wrapper objects.
        started = time.perf_counter()
        try:
            return await self._storage.stat(path)
        except Exception as error:
            _count_failure("stat", error)
            raise
        finally:
            self._stat_time.observe(time.perf_counter() - started)

    async def open(self, path, expected, start=0, stop=None):
        return await _timed("open", self._storage.open(path, expected, start, stop))

    async def open_current(self, path):
        return await _timed("open", self._storage.open_current(path))

    async def content_hash(self, path, expected, opened=None):
        return await _timed("content_hash", self._storage.content_hash(path, expected, opened))

    async def create(self, path, content_type=None):
        return await _timed("create", self._storage.create(path, content_type=content_type))

    async def delete(self, path):
        return await _timed("delete", self._storage.delete(path))

    async def list(self, folder):
        return await _timed("list", self._storage.list(folder))

    async def names(self, folder):
        return await _timed("list", self._storage.names(folder))

    async def ready(self):
        return await _timed("ready", self._storage.ready())

    async def writable(self):
        return await self._storage.writable()

    def close(self) -> None:
        self._storage.close()


async def _timed(operation: str, call):
    started = time.perf_counter()
    try:
        return await call
    except Exception as error:
        _count_failure(operation, error)
        raise
    finally:
        STORAGE_LATENCY.labels(operation).observe(time.perf_counter() - started)


def _count_failure(operation: str, error: Exception) -> None:
    if type(error).__name__ in ("StorageUnavailable", "StorageConflict"):
        STORAGE_ERRORS.labels(operation).inc()
