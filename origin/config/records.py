"""What a checked config.toml holds: frozen records, and the names and values
every table may have (SECTION_KEYS is both what the checks accept and what the
README's reference lists)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from ipaddress import IPv4Network, IPv6Network
from pathlib import Path

from origin.policy import (
    POLICY_KEYS,
    PolicyTable,
)

DEFAULT_CONFIG_NAME = "config.toml"
CONFIG_ENV = "MEDIA_ORIGIN_CONFIG"  # the config file, when --config is not given
# The secrets' usual names: the shipped config's, and the client commands' without one.
TOKEN_ENV = "MEDIA_ORIGIN_TOKEN"
SIGNING_KEY_ENV = "MEDIA_ORIGIN_SIGNING_KEY"
BACKENDS = ("filesystem", "s3")
ETAG_MODES = ("strong", "weak", "off")
DISPOSITIONS = ("inline", "attachment")
CONVERT_KEYS = (
    "workers",
    "timeout",
    "job_after",
    "max_duration",
    "max_pixels",
    "memory_mb",
    "serving_cores",
    "audio",
    "ffmpeg",
    "ffprobe",
)
WHATSAPP_NUMBER_KEYS = ("phone_number_id", "access_token_env")
WHATSAPP_KEYS = (
    "provider",
    "base_url",
    "api_version",
    *WHATSAPP_NUMBER_KEYS,
    "app_secret_env",
    "verify_token_env",
    "renew_days",
    "timeout",
    "webhook_header",
    "numbers",
)
# Each provider's address, the default of [whatsapp] base_url.
PROVIDER_BASE_URLS = {
    "meta": "https://graph.facebook.com",
    "360dialog": "https://waba-v2.360dialog.io",
}
S3_KEYS = ("bucket", "prefix", "endpoint_url", "region", "metadata_ttl", "timeout")
# Every key config.toml may hold, by table ("policy" is each [policy."/folder"]
# table): what the checks below accept, and what the README's reference lists.
SECTION_KEYS: dict[str, tuple[str, ...]] = {
    "server": ("host", "port", "base_url", "shutdown_grace"),
    "storage": ("backend", "root", *S3_KEYS),
    "policy": POLICY_KEYS,
    "api": ("token_env", "signing_key_env"),
    "log": ("access", "trusted_proxies", "meta_networks"),
    "metrics": ("enabled", "token_env"),
    "convert": CONVERT_KEYS,
    "whatsapp": WHATSAPP_KEYS,
    "console": ("enabled", "session_hours"),
}


class ConfigError(Exception):
    """A problem in the configuration; str() is the one line shown to the operator."""


@dataclass(frozen=True)
class ServerConfig:
    host: str = "127.0.0.1"
    port: int = 8080
    base_url: str = "http://127.0.0.1:8080"
    shutdown_grace: float = 30.0  # seconds in-flight requests get after SIGTERM


@dataclass(frozen=True)
class S3Config:
    bucket: str
    prefix: str = ""
    endpoint_url: str | None = None
    region: str | None = None
    metadata_ttl: float = 1.0  # seconds a head_object answer is reused by one instance
    timeout: float = 10.0  # seconds before a store call is given up (504)


@dataclass(frozen=True)
class StorageConfig:
    root: Path | None  # the filesystem backend's folder
    backend: str = "filesystem"
    s3: S3Config | None = None

    def describe(self) -> str:
        if self.s3 is not None:
            return f"s3://{self.s3.bucket}/{self.s3.prefix}"
        return str(self.root)


@dataclass(frozen=True)
class LogConfig:
    # Off by default until a logged request costs little: measured +16 µs of CPU
    # per small GET (README "Running in production").
    access: str = "off"  # "json" | "plain" | "off"
    trusted_proxies: tuple[IPv4Network | IPv6Network, ...] = ()
    meta_networks: tuple[IPv4Network | IPv6Network, ...] | None = None  # None: the built-in list


@dataclass(frozen=True)
class MetricsConfig:
    enabled: bool = False  # +8 µs of CPU per request when on
    token_env: str | None = None
    token: str | None = None  # None: /metrics answers loopback peers only


@dataclass(frozen=True)
class ConsoleConfig:
    enabled: bool = False  # off: every /_console/ path is a 404
    session_hours: float = 12.0  # a signed-in session ends this long after sign-in


@dataclass(frozen=True)
class ApiConfig:
    """Secrets come from the environment, never from the file: only their names are here."""

    token_env: str | None = None
    token: str | None = None  # None: writes are refused (403)
    signing_key: bytes | None = None


@dataclass(frozen=True)
class ConvertConfig:
    """How conversions run: each in a child process with these bounds."""

    workers: int = 0  # conversions at once; 0: one per two cores (at least one)
    timeout: float = 600.0  # wall-clock seconds one conversion may take
    job_after: float = 5.0  # seconds an upload waits before it is answered 202 with a job
    max_duration: float = 3600.0  # seconds of audio or video taken as input
    max_pixels: int = 50_000_000  # of a picture taken as input (a bomb is refused)
    memory_mb: int = 2048  # address space of a conversion's process
    serving_cores: int = 1  # cores conversions leave to serving; 0: they may use every core
    audio: str = "aac"  # what audio that is not a voice note becomes: "aac" (M4A) or "opus"
    ffmpeg: str = "ffmpeg"  # a name looked up on PATH, or a path
    ffprobe: str = "ffprobe"

    @property
    def concurrency(self) -> int:
        """One conversion at a time per two cores by default: the rest is for serving."""
        return self.workers or max(1, (os.cpu_count() or 1) // 2)

    @property
    def cpus(self) -> frozenset[int] | None:
        """The cores a conversion runs on: all but the first ``serving_cores`` this
        process may use, or None (every core) when that would leave none.

        The idle scheduling class alone is not enough: on two cores, two encodes
        at the lowest priority still made a small GET's p99 several times its
        idle figure (caches and the hypervisor's share are not scheduled), while
        encodes kept off one core left it within a few percent (bench/convert.py).
        """
        available = sorted(os.sched_getaffinity(0))
        if self.serving_cores == 0 or len(available) <= self.serving_cores:
            return None
        return frozenset(available[self.serving_cores :])


@dataclass(frozen=True)
class Number:
    """A WhatsApp number media IDs belong to, and the token that acts for it."""

    phone_number_id: str
    token_env: str
    token: str = field(repr=False)  # Meta's bearer token, or 360dialog's D360-API-KEY


@dataclass(frozen=True)
class WhatsAppConfig:
    """The media-ID bridge; ``configured`` is False without a [whatsapp] table.
    Secrets are read from the environment and kept out of repr()."""

    configured: bool = False
    provider: str = "meta"  # or "360dialog"
    base_url: str = PROVIDER_BASE_URLS["meta"]
    api_version: str = "v23.0"  # meta: requests go to {base_url}/{api_version}/...
    numbers: tuple[Number, ...] = ()
    app_secret_env: str = "WHATSAPP_APP_SECRET"
    verify_token_env: str = "WHATSAPP_VERIFY_TOKEN"
    renew_days: int = 3  # an ID is uploaded again this many days before its 30-day expiry
    timeout: float = 10.0  # seconds for one provider call, retries included
    webhook_header: str = "X-Webhook-Secret"  # 360dialog: a header carrying the app secret
    app_secret: str | None = field(default=None, repr=False)
    verify_token: str | None = field(default=None, repr=False)

    @property
    def phone_number_id(self) -> str | None:
        """The number, when there is exactly one (``number`` may then be left out)."""
        return self.numbers[0].phone_number_id if len(self.numbers) == 1 else None

    @property
    def access_token_env(self) -> str:
        return self.numbers[0].token_env if len(self.numbers) == 1 else "WHATSAPP_TOKEN"

    def number(self, asked: str | None) -> Number | None:
        """The number asked for, or the only one when none is asked; None otherwise."""
        if asked is None:
            return self.numbers[0] if len(self.numbers) == 1 else None
        return next((n for n in self.numbers if n.phone_number_id == asked), None)


@dataclass(frozen=True)
class Config:
    source: str  # the file read, or a description of the built-in default
    path: Path | None  # the file read, None for the built-in default
    server: ServerConfig
    storage: StorageConfig
    policies: PolicyTable
    api: ApiConfig = ApiConfig()
    log: LogConfig = LogConfig()
    metrics: MetricsConfig = MetricsConfig()
    convert: ConvertConfig = field(default_factory=ConvertConfig)
    whatsapp: WhatsAppConfig = field(default_factory=WhatsAppConfig)
    console: ConsoleConfig = ConsoleConfig()
