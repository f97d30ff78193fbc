"""``media-origin explain``: the headers a link answers with, how Meta will
cache it, and what will make Meta's fetch fail; for a stored path (the headers
this origin would send) or for any http(s) URL (fetched once)."""

from __future__ import annotations

import asyncio
import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO
from urllib.parse import urlsplit

from origin.config import Config
from origin.inspection import ERROR, Problem, inspect_file
from origin.meta import ACCEPTED_TYPES, MetaView, check_response, meta_caching
from origin.paths import storage_path
from origin.sniff import HEAD_BYTES, base_type, sniff
from origin.whatsapp import LARGEST_MEDIA_BYTES, rule_for_name

USER_AGENT = "media-origin-explain (checks a WhatsApp media link)"
TIMEOUT_SECONDS = 30


@dataclass
class Explanation:
    target: str
    status: int
    headers: dict[str, str]
    policy: str | None
    meta: MetaView
    problems: list[Problem] = field(default_factory=list)

    def to_json(self) -> dict[str, object]:
        return {
            "target": self.target,
            "status": self.status,
            "headers": self.headers,
            "policy": self.policy,
            "meta": self.meta.to_json(),
            "problems": [
                {"code": p.code, "level": p.level, "message": p.message} for p in self.problems
            ],
        }

    @property
    def failed(self) -> bool:
        return any(problem.level == ERROR for problem in self.problems)


def explain(config: Config, target: str) -> Explanation:
    if target.startswith(("http://", "https://")):
        return explain_url(target)
    return explain_stored(config, target)


def explain_stored(config: Config, target: str) -> Explanation:
    """Exactly the headers the origin sends for ``target``, from the serving code itself;
    the bytes come through the storage, whatever the backend."""
    from origin.app import MediaOrigin

    url_path = "/" + urlsplit(target).path.lstrip("/")
    path = storage_path(url_path)
    origin = MediaOrigin(config)
    representation = asyncio.run(origin.representations.get(url_path, path)) if path else None
    if representation is None:
        view, _ = meta_caching({})
        problem = Problem("http_error", ERROR, f"{url_path} is not served here: HTTP 404")
        return Explanation(url_path, 404, {}, None, view, [problem])
    headers = {name.decode(): value.decode() for name, value in representation.ok_headers}
    view, problems = meta_caching(headers)
    with tempfile.TemporaryDirectory(prefix="media-origin-explain-") as folder:
        file = Path(folder) / "body"
        asyncio.run(_copy_out(origin.storage, path, representation.stat, file))
        with file.open("rb") as handle:
            sniffed = sniff(handle.read(HEAD_BYTES), file)
        problems += check_response(200, headers, sniffed)
        problems += inspect_file(file, url_path).problems
    policy = representation.policy.folder
    return Explanation(url_path, 200, headers, policy, view, _unique(problems))


async def _copy_out(storage, path: str, stat, file: Path) -> None:
    opened = await storage.open(path, stat)
    try:
        with file.open("wb") as out:
            async for chunk in opened.chunks(0, min(stat.size, LARGEST_MEDIA_BYTES + 1)):
                out.write(chunk)
    finally:
        opened.close()


def explain_url(url: str) -> Explanation:
    """GET the URL as Meta would (no redirects followed), keep at most the largest
    media size WhatsApp takes, and inspect what came."""
    import httpx

    with (
        tempfile.TemporaryDirectory(prefix="media-origin-explain-") as folder,
        httpx.Client(timeout=TIMEOUT_SECONDS, headers={"user-agent": USER_AGENT}) as client,
    ):
        try:
            with client.stream("GET", url) as response:
                status = response.status_code
                headers = {name.lower(): value for name, value in response.headers.items()}
                body = Path(folder) / "body"
                complete = _save(response, body)
        except httpx.HTTPError as error:
            view, _ = meta_caching({})
            problem = Problem("http_error", ERROR, f"the fetch failed: {error}")
            return Explanation(url, 0, {}, None, view, [problem])
        view, problems = meta_caching(headers)
        with body.open("rb") as handle:
            sniffed = sniff(handle.read(HEAD_BYTES), body)
        problems += check_response(status, headers, sniffed)
        if 200 <= status < 300 and not any(p.level == ERROR for p in problems) and complete:
            problems += inspect_file(body, _media_name(url, headers)).problems
    return Explanation(url, status, headers, None, view, _unique(problems))


def _save(response, body: Path) -> bool:
    """Write the body to ``body``; False if it was cut at the largest media size."""
    written = 0
    with body.open("wb") as file:
        for chunk in response.iter_bytes(1 << 20):
            file.write(chunk)
            written += len(chunk)
            if written > LARGEST_MEDIA_BYTES:
                return False
    return True


def _media_name(url: str, headers: dict[str, str]) -> str:
    """A name whose extension selects the rule: the URL's own when it has a
    WhatsApp extension, else one of the declared Content-Type's."""
    name = urlsplit(url).path.rsplit("/", 1)[-1] or "media"
    if rule_for_name(name) is not None:
        return name
    rule = ACCEPTED_TYPES.get(base_type(headers.get("content-type", "")))
    return f"{name}{rule.extensions[0]}" if rule else name


def _unique(problems: list[Problem]) -> list[Problem]:
    """One problem per code: the HTTP check and the file check can both see a mismatch."""
    seen: set[str] = set()
    kept = []
    for problem in problems:
        if problem.code not in seen:
            seen.add(problem.code)
            kept.append(problem)
    return kept


def run_explain(config: Config, target: str, as_json: bool, out: TextIO) -> int:
    explanation = explain(config, target)
    if as_json:
        json.dump(explanation.to_json(), out, indent=2, ensure_ascii=False)
        out.write("\n")
    else:
        out.write(format_explanation(explanation))
    return 1 if explanation.failed else 0


def format_explanation(explanation: Explanation) -> str:
    lines = [f"{explanation.target}  ->  HTTP {explanation.status}"]
    lines += [f"  {name}: {value}" for name, value in explanation.headers.items()]
    if explanation.policy is not None:
        lines.append(f'policy: [policy."{explanation.policy}"]')
    lines.append(f"Meta: {explanation.meta.summary}")
    if explanation.problems:
        lines.append("problems:")
        lines += [f"  {p.level}: {p.code}: {p.message}" for p in explanation.problems]
    else:
        lines.append("problems: none")
    return "\n".join(lines) + "\n"
