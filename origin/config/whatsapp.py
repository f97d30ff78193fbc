"""The ``[whatsapp]`` table: which provider hands out media IDs (Meta's Graph API
or 360dialog), at what address, for which numbers, and the names of the
environment variables that hold its secrets. Checked at start-up like every
table; the secrets are read from the environment here and never printed.

With no ``[whatsapp]`` table the bridge is off: links work as before, and a
request for a media ID answers with the link alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from origin.config.records import (
    PROVIDER_BASE_URLS,
    SECTION_KEYS,
    WHATSAPP_NUMBER_KEYS,
    Number,
    WhatsAppConfig,
)


def read_whatsapp(
    reader: Any, table: dict[str, Any], environ: Mapping[str, str], present: bool
) -> WhatsAppConfig:
    """``reader`` is ``tables._Reader``: its messages name the file and the key."""
    if not present:
        return WhatsAppConfig()
    reader.only_keys(table, "whatsapp", SECTION_KEYS["whatsapp"])
    default = WhatsAppConfig()
    provider = reader.typed(table, "whatsapp", "provider", str, default.provider)
    if provider not in PROVIDER_BASE_URLS:
        known = " or ".join(f'"{name}"' for name in PROVIDER_BASE_URLS)
        raise reader.fail("whatsapp.provider", f"{provider!r} is not {known}")
    base_url = reader.typed(table, "whatsapp", "base_url", str, PROVIDER_BASE_URLS[provider])
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query:
        raise reader.fail("whatsapp.base_url", "must be an http(s):// address without a query")
    values: dict[str, Any] = {"provider": provider, "base_url": base_url.rstrip("/")}
    for key in ("api_version", "app_secret_env", "verify_token_env", "webhook_header"):
        values[key] = reader.typed(table, "whatsapp", key, str, getattr(default, key))
        if not values[key]:
            raise reader.fail(f"whatsapp.{key}", "must not be empty")
    renew_days = reader.typed(table, "whatsapp", "renew_days", int, default.renew_days)
    if not 0 <= renew_days <= 29:
        raise reader.fail("whatsapp.renew_days", "must be a whole number of days from 0 to 29")
    timeout = table.get("timeout", default.timeout)
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0:
        raise reader.fail("whatsapp.timeout", "must be a number of seconds above 0")
    values |= {"renew_days": renew_days, "timeout": float(timeout)}
    values["numbers"] = _numbers(reader, table, environ, default)
    values["app_secret"] = environ.get(values["app_secret_env"]) or None
    values["verify_token"] = environ.get(values["verify_token_env"]) or None
    return WhatsAppConfig(configured=True, **values)


def _numbers(
    reader: Any, table: dict[str, Any], environ: Mapping[str, str], default: WhatsAppConfig
) -> tuple[Number, ...]:
    """``[[whatsapp.numbers]]``, or the top-level pair: never both, at least one."""
    listed = table.get("numbers")
    top = [key for key in WHATSAPP_NUMBER_KEYS if key in table]
    if listed is not None and top:
        raise reader.fail(
            f"whatsapp.{top[0]}",
            "give the numbers either here or as [[whatsapp.numbers]], not both",
        )
    if listed is None:
        tables, prefixes = [table], ["whatsapp"]
    elif not isinstance(listed, list) or not listed or not all(isinstance(t, dict) for t in listed):
        raise reader.fail("whatsapp.numbers", "must be one or more [[whatsapp.numbers]] tables")
    else:
        tables = listed
        prefixes = [f"whatsapp.numbers[{index}]" for index in range(len(listed))]
    numbers = []
    for entry, prefix in zip(tables, prefixes, strict=True):
        if entry is not table:
            reader.only_keys(entry, prefix, WHATSAPP_NUMBER_KEYS)
        if "phone_number_id" not in entry:
            raise reader.fail(f"{prefix}.phone_number_id", "is required: the number IDs belong to")
        number = reader.typed(entry, prefix, "phone_number_id", str, None)
        if not number.isdigit():
            raise reader.fail(f"{prefix}.phone_number_id", f"{number!r} is not a number's ID")
        token_env = reader.typed(entry, prefix, "access_token_env", str, default.access_token_env)
        token = environ.get(token_env)
        if not token:
            raise reader.fail(
                f"{prefix}.access_token_env",
                f"the environment variable {token_env} is not set or empty",
            )
        numbers.append(Number(number, token_env, token))
    if len({number.phone_number_id for number in numbers}) != len(numbers):
        raise reader.fail("whatsapp.numbers", "a phone_number_id is given twice")
    return tuple(numbers)
