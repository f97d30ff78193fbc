"""config.toml: found, read once at start-up and checked completely, so that a
mistake is a one-line error naming the file and the key instead of a surprise
at Meta; read again, and applied only if it loads, on a reload.

The records are in ``records``, the checks of each table in ``tables``; this
module is the package's interface, and what the rest of origin imports.
"""

from __future__ import annotations

import logging
import os
import tomllib
from dataclasses import replace
from pathlib import Path

from origin.config.records import (
    BACKENDS,
    CONFIG_ENV,
    DEFAULT_CONFIG_NAME,
    DISPOSITIONS,
    ETAG_MODES,
    S3_KEYS,
    SECTION_KEYS,
    SIGNING_KEY_ENV,
    TOKEN_ENV,
    ApiConfig,
    Config,
    ConfigError,
    ConsoleConfig,
    ConvertConfig,
    LogConfig,
    MetricsConfig,
    Number,
    S3Config,
    ServerConfig,
    StorageConfig,
    WhatsAppConfig,
)
from origin.config.tables import config_from_document

__all__ = [
    "BACKENDS",
    "CONFIG_ENV",
    "DEFAULT_CONFIG_NAME",
    "DISPOSITIONS",
    "ETAG_MODES",
    "S3_KEYS",
    "SECTION_KEYS",
    "SIGNING_KEY_ENV",
    "TOKEN_ENV",
    "ApiConfig",
    "Config",
    "ConfigError",
    "ConsoleConfig",
    "ConvertConfig",
    "LogConfig",
    "MetricsConfig",
    "Number",
    "S3Config",
    "ServerConfig",
    "StorageConfig",
    "WhatsAppConfig",
    "config_from_document",
    "default_config",
    "load_config",
    "reloaded",
    "resolve_config",
]

logger = logging.getLogger("media_origin")


def load_config(path: Path | str) -> Config:
    """Read and check a config file; raise ConfigError for any problem in it."""
    path = Path(path)
    try:
        with path.open("rb") as file:
            document = tomllib.load(file)
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file") from None
    except OSError as error:
        raise ConfigError(f"{path}: cannot read: {error.strerror}") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: not valid TOML: {error}") from None
    return config_from_document(
        document, source=str(path), base_dir=path.resolve().parent, path=path.resolve()
    )


def default_config(base_dir: Path) -> Config:
    """The built-in default: ``media/`` under ``base_dir`` with the default policy."""
    return config_from_document({}, source="built-in default", base_dir=base_dir)


def reloaded(running: Config) -> Config | None:
    """The running config with config.toml's policies and log settings read again:
    what a reload applies, in place (``MediaOrigin.reload``) or to workers the
    supervisor respawns (origin.servers); None, after logging why, when the file
    has a mistake or there is no file."""
    if running.path is None:
        logger.warning("reload: running on the built-in default, there is no file to read")
        return None
    try:
        new = load_config(running.path)
    except ConfigError as error:
        logger.error("reload refused, the running config stays: %s", error)
        return None
    if new.storage != running.storage:
        logger.warning("reload: [storage] changes need a restart; they were not applied")
    return replace(running, policies=new.policies, log=new.log)


def resolve_config(config_path: str | os.PathLike[str] | None) -> Config:
    """Find and load the config; raise ConfigError for a bad or missing explicit one.

    A failure says where it looked and how to give a config: the operator who runs
    a command outside the repository must learn both from the one line."""
    if config_path:
        return load_config(config_path)
    from_env = os.environ.get(CONFIG_ENV)
    if from_env:
        if not Path(from_env).exists():
            raise ConfigError(
                f"${CONFIG_ENV} names {from_env}, which does not exist: "
                f"point it at a config file, or unset it"
            )
        return load_config(from_env)
    default = Path.cwd() / "config.toml"
    if default.exists():
        return load_config(default)
    try:
        return default_config(Path.cwd())
    except ConfigError as error:
        raise ConfigError(
            f"no ./config.toml here ({Path.cwd()}), ${CONFIG_ENV} is not set, and the "
            f"built-in default failed: {error}; give a config with --config PATH "
            f"or {CONFIG_ENV}=PATH"
        ) from None
