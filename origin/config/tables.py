"""Reading config.toml's tables, each checked completely: an unknown key, a
wrong type or an impossible value is a ConfigError naming the file and the key."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from ipaddress import ip_network
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from origin.config.conversion import read_convert
from origin.config.records import (
    BACKENDS,
    DISPOSITIONS,
    ETAG_MODES,
    S3_KEYS,
    SECTION_KEYS,
    TOKEN_ENV,
    ApiConfig,
    Config,
    ConfigError,
    ConsoleConfig,
    LogConfig,
    MetricsConfig,
    S3Config,
    ServerConfig,
    StorageConfig,
)
from origin.config.whatsapp import read_whatsapp
from origin.http.cache_control import CacheControlError, check_response_policy, parse_cache_control
from origin.policy import (
    CONVERT_AS,
    Policy,
    PolicyTable,
    normalise_folder,
    resolve_policies,
)


def config_from_document(
    document: dict[str, Any],
    source: str,
    base_dir: Path,
    path: Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> Config:
    reader = _Reader(source)
    reader.only_keys(document, "", tuple(SECTION_KEYS))
    server = _read_server(reader, reader.table(document, "server"))
    storage = _read_storage(reader, reader.table(document, "storage"), base_dir)
    policies = _read_policies(reader, reader.table(document, "policy"))
    environ = os.environ if environ is None else environ  # {} is an empty environment
    api = _read_api(reader, reader.table(document, "api"), environ)
    for folder, policy in policies.by_folder.items():
        if policy.signed and api.signing_key is None:
            raise reader.fail(
                f'policy."{folder}".signed',
                "signed links need a key: set [api] signing_key_env to the name of an "
                "environment variable that holds it",
            )
    return Config(
        source=source,
        path=path,
        server=server,
        storage=storage,
        policies=policies,
        api=api,
        log=_read_log(reader, reader.table(document, "log")),
        metrics=_read_metrics(reader, reader.table(document, "metrics"), environ),
        convert=read_convert(reader, reader.table(document, "convert")),
        whatsapp=read_whatsapp(
            reader, reader.table(document, "whatsapp"), environ, "whatsapp" in document
        ),
        console=_read_console(reader, reader.table(document, "console")),
    )


def _read_console(reader: _Reader, table: dict[str, Any]) -> ConsoleConfig:
    reader.only_keys(table, "console", SECTION_KEYS["console"])
    enabled = reader.typed(table, "console", "enabled", bool, ConsoleConfig.enabled)
    hours = table.get("session_hours", ConsoleConfig.session_hours)
    if isinstance(hours, bool) or not isinstance(hours, int | float) or not 0 < hours <= 720:
        raise reader.fail("console.session_hours", "must be a number of hours above 0, at most 720")
    return ConsoleConfig(enabled=enabled, session_hours=float(hours))


def _read_log(reader: _Reader, table: dict[str, Any]) -> LogConfig:
    reader.only_keys(table, "log", SECTION_KEYS["log"])
    access = reader.typed(table, "log", "access", str, LogConfig.access)
    if access not in ("json", "plain", "off"):
        raise reader.fail("log.access", f'{access!r} is not "json", "plain" or "off"')
    proxies = _networks(reader, table, "trusted_proxies")
    meta = _networks(reader, table, "meta_networks") if "meta_networks" in table else None
    return LogConfig(access=access, trusted_proxies=proxies, meta_networks=meta)


def _networks(reader: _Reader, table: dict[str, Any], key: str) -> tuple:
    values = reader.typed(table, "log", key, list, [])
    networks = []
    for value in values:
        try:
            networks.append(ip_network(value, strict=False))
        except (TypeError, ValueError):
            raise reader.fail(f"log.{key}", f"{value!r} is not an address or network") from None
    return tuple(networks)


def _read_metrics(
    reader: _Reader, table: dict[str, Any], environ: Mapping[str, str]
) -> MetricsConfig:
    reader.only_keys(table, "metrics", SECTION_KEYS["metrics"])
    enabled = reader.typed(table, "metrics", "enabled", bool, MetricsConfig.enabled)
    token_env = table.get("token_env")
    if token_env is not None:
        token_env = reader.typed(table, "metrics", "token_env", str, None)
    return MetricsConfig(
        enabled=enabled,
        token_env=token_env,
        token=(environ.get(token_env) or None) if token_env else None,
    )


def _read_api(reader: _Reader, table: dict[str, Any], environ: Mapping[str, str]) -> ApiConfig:
    reader.only_keys(table, "api", SECTION_KEYS["api"])
    token_env = reader.typed(table, "api", "token_env", str, TOKEN_ENV)
    key_env = table.get("signing_key_env")
    if key_env is not None:
        key_env = reader.typed(table, "api", "signing_key_env", str, None)
    key = environ.get(key_env) if key_env else None
    if key_env and not key:
        raise reader.fail(
            "api.signing_key_env", f"the environment variable {key_env} is not set or empty"
        )
    return ApiConfig(
        token_env=token_env,
        token=environ.get(token_env) or None,
        signing_key=key.encode() if key else None,
    )


class _Reader:
    """Type checks that name the file and the dotted key in every message."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, key: str, message: str) -> ConfigError:
        return ConfigError(f"{self.source}: {key}: {message}")

    def only_keys(self, table: dict[str, Any], prefix: str, allowed: tuple[str, ...]) -> None:
        for key in table:
            if key not in allowed:
                name = f"{prefix}.{key}" if prefix else key
                raise self.fail(name, f"unknown key (expected one of: {', '.join(allowed)})")

    def table(self, document: dict[str, Any], key: str) -> dict[str, Any]:
        value = document.get(key, {})
        if not isinstance(value, dict):
            raise self.fail(key, f"must be a table, not {_kind(value)}")
        return value

    def typed(self, table: dict[str, Any], prefix: str, key: str, kind: type, default: Any) -> Any:
        value = table.get(key, default)
        # bool is an int in Python, never in a config file.
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise self.fail(f"{prefix}.{key}", f"must be {_kind_name(kind)}, not {_kind(value)}")
        return value


def _read_server(reader: _Reader, table: dict[str, Any]) -> ServerConfig:
    reader.only_keys(table, "server", SECTION_KEYS["server"])
    host = reader.typed(table, "server", "host", str, ServerConfig.host)
    port = reader.typed(table, "server", "port", int, ServerConfig.port)
    if not 0 < port < 65536:
        raise reader.fail("server.port", f"{port} is not a TCP port (1 to 65535)")
    base_url = reader.typed(table, "server", "base_url", str, f"http://{host}:{port}")
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise reader.fail("server.base_url", f"{base_url!r} is not an http(s):// URL")
    if parts.query or parts.fragment:
        raise reader.fail("server.base_url", f"{base_url!r} must not have a query or fragment")
    grace = table.get("shutdown_grace", ServerConfig.shutdown_grace)
    if isinstance(grace, bool) or not isinstance(grace, int | float) or grace < 0:
        raise reader.fail("server.shutdown_grace", "must be a number of seconds, 0 or more")
    return ServerConfig(
        host=host, port=port, base_url=base_url.rstrip("/"), shutdown_grace=float(grace)
    )


def _read_storage(reader: _Reader, table: dict[str, Any], base_dir: Path) -> StorageConfig:
    reader.only_keys(table, "storage", SECTION_KEYS["storage"])
    backend = reader.typed(table, "storage", "backend", str, "filesystem")
    if backend not in BACKENDS:
        raise reader.fail(
            "storage.backend", f"unknown backend {backend!r} (known: {', '.join(BACKENDS)})"
        )
    if backend == "s3":
        return StorageConfig(root=None, backend=backend, s3=_read_s3(reader, table))
    for key in S3_KEYS:
        if key in table:
            raise reader.fail(f"storage.{key}", 'is for backend = "s3" only')
    root_value = reader.typed(table, "storage", "root", str, "media")
    root = (base_dir / root_value).resolve()
    if not root.is_dir():
        problem = "is not a folder" if root.exists() else "does not exist"
        raise reader.fail("storage.root", f"{root} {problem}")
    return StorageConfig(root=root, backend=backend)


def _read_s3(reader: _Reader, table: dict[str, Any]) -> S3Config:
    if "root" in table:
        raise reader.fail("storage.root", 'is for backend = "filesystem" only')
    if "bucket" not in table:
        raise reader.fail("storage.bucket", 'backend = "s3" needs a bucket')
    bucket = reader.typed(table, "storage", "bucket", str, None)
    if not re.fullmatch(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", bucket):
        raise reader.fail("storage.bucket", f"{bucket!r} is not an S3 bucket name")
    endpoint = table.get("endpoint_url")
    if endpoint is not None:
        endpoint = reader.typed(table, "storage", "endpoint_url", str, None)
        if urlsplit(endpoint).scheme not in ("http", "https"):
            raise reader.fail("storage.endpoint_url", f"{endpoint!r} is not an http(s):// URL")
    numbers = {}
    for key, default in (("metadata_ttl", 1.0), ("timeout", 10.0)):
        value = table.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise reader.fail(f"storage.{key}", "must be a number of seconds, 0 or more")
        numbers[key] = float(value)
    return S3Config(
        bucket=bucket,
        prefix=reader.typed(table, "storage", "prefix", str, ""),
        endpoint_url=endpoint,
        region=table.get("region") and reader.typed(table, "storage", "region", str, None),
        **numbers,
    )


def _read_policies(reader: _Reader, table: dict[str, Any]) -> PolicyTable:
    declared: dict[str, dict[str, object]] = {}
    for folder, keys in table.items():
        name = f'policy."{folder}"'
        if not isinstance(keys, dict):
            raise reader.fail(name, f"must be a table, not {_kind(keys)}")
        _check_folder(reader, name, folder)
        normalised = normalise_folder(folder)
        if normalised in declared:
            raise reader.fail(name, f"names the same folder as another policy ({normalised})")
        declared[normalised] = _read_policy_keys(reader, name, keys)
    policies = resolve_policies(declared)
    for folder, policy in policies.by_folder.items():
        _check_resolved(reader, f'policy."{folder}"', policy, declared.get(folder, {}))
    return policies


def _check_folder(reader: _Reader, name: str, folder: str) -> None:
    if not folder.startswith("/"):
        raise reader.fail(name, "a policy folder must start with '/'")
    segments = normalise_folder(folder).split("/")[1:]
    for segment in segments if folder != "/" else []:
        if segment in ("", ".", ".."):
            raise reader.fail(name, "a policy folder must not contain '//', '.' or '..'")
        if segment.startswith("."):
            raise reader.fail(
                name, "dot-folders are never served, so a policy for one is a mistake"
            )


def _read_policy_keys(reader: _Reader, name: str, keys: dict[str, Any]) -> dict[str, object]:
    reader.only_keys(keys, name, SECTION_KEYS["policy"])
    values: dict[str, object] = {}
    for key in ("cache_control", "cdn_cache_control", "etag", "content_disposition"):
        if key in keys:
            values[key] = reader.typed(keys, name, key, str, None)
    for key in ("last_modified", "versioned_links_immutable", "signed", "convert", "keep_original"):
        if key in keys:
            values[key] = reader.typed(keys, name, key, bool, None)
    if values.get("etag", "strong") not in ETAG_MODES:
        raise reader.fail(f"{name}.etag", f"unknown mode {values['etag']!r} (strong, weak or off)")
    if values.get("content_disposition", "inline") not in DISPOSITIONS:
        raise reader.fail(
            f"{name}.content_disposition",
            f'{values["content_disposition"]!r} is not "inline" or "attachment"',
        )
    if "convert_as" in keys:
        values["convert_as"] = reader.typed(keys, name, "convert_as", str, None)
        if values["convert_as"] not in CONVERT_AS:
            known = ", ".join(CONVERT_AS)
            raise reader.fail(
                f"{name}.convert_as", f"{values['convert_as']!r} is not one of {known}"
            )
    if values.get("cdn_cache_control") == "":
        values["cdn_cache_control"] = None
    return values


def _check_resolved(reader: _Reader, name: str, policy: Policy, own: dict[str, object]) -> None:
    """Rules over the inherited whole; the message names the key this folder got wrong."""
    try:
        directives = parse_cache_control(policy.cache_control)
        check_response_policy(directives)
    except CacheControlError as error:
        raise reader.fail(f"{name}.cache_control", str(error)) from None
    if "no-cache" in directives and not policy.last_modified:
        key = "last_modified" if "last_modified" in own else "cache_control"
        raise reader.fail(
            f"{name}.{key}",
            "cache_control has no-cache but last_modified is false: Meta needs "
            "Last-Modified to revalidate a no-cache link",
        )
    if policy.cdn_cache_control is not None:
        try:
            check_response_policy(parse_cache_control(policy.cdn_cache_control))
        except CacheControlError as error:
            raise reader.fail(f"{name}.cdn_cache_control", str(error)) from None


def _kind(value: object) -> str:
    return {dict: "a table", list: "an array", str: "a string", bool: "a boolean"}.get(
        type(value), f"a {type(value).__name__}"
    )


def _kind_name(kind: type) -> str:
    return {str: "a string", int: "an integer", bool: "true or false", list: "an array"}[kind]
