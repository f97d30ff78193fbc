"""``media-origin explain``: the headers a link answers with, how Meta will
cache it, and what will make Meta's fetch fail; for a stored path (the headers
this origin would send), a file on disk under the storage root (the same, for
the path it is stored at) or any http(s) URL (fetched once).

Blunt where the link is broken: a transport error or a non-2xx answer is one
line and exit 1, because nothing past it (caching, the media checks) matters
until the link answers 200. A target that is no link at all is exit 2.
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO
from urllib.parse import urlsplit

from origin.config import Config
from origin.serve.paths import storage_path
from origin.serve.representations import Representations
from origin.whatsapp.inspection import inspect_file
from origin.whatsapp.problems import ERROR, Problem
from origin.whatsapp.responses import ACCEPTED_TYPES, MetaView, check_response, meta_caching
from origin.whatsapp.rules import LARGEST_MEDIA_BYTES, rule_for_name
from origin.whatsapp.sniff import HEAD_BYTES, base_type, sniff

USER_AGENT = "media-origin-explain (checks a WhatsApp media link)"
TIMEOUT_SECONDS = 30
EXIT_OK, EXIT_LINK_FAILS, EXIT_USAGE = 0, 1, 2
# What Meta does with a link that does not answer 2xx: nothing to cache, and the
# caching paragraph of a 404 page's own headers would only mislead.
NOT_FETCHED = MetaView(False, None, False, "Meta's fetch fails: nothing is fetched or cached")


class UsageError(Exception):
    """A target explain cannot take (exit 2): said in one line, nothing fetched."""


@dataclass
class Explanation:
    target: str
    status: int | None  # None: no HTTP answer at all (refused, timed out, bad TLS)
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
            "problems": [p.to_json() for p in self.problems],
        }

    @property
    def failed(self) -> bool:
        return any(problem.level == ERROR for problem in self.problems)

    @property
    def stopped(self) -> bool:
        """No 2xx answer: the link fails before caching or the bytes matter."""
        return self.status is None or not 200 <= self.status < 300


def explain(config: Config, target: str) -> Explanation:
    """Explain a URL, a stored path, or a file on disk under the storage root."""
    if target.startswith(("http://", "https://")):
        return explain_url(target)
    scheme = urlsplit(target).scheme
    if "://" in target and scheme:
        raise UsageError(f"{target}: explain fetches http:// and https:// links only, not {scheme}")
    stored = stored_path_of_file(config, target)
    return explain_stored(config, stored if stored is not None else target)


def stored_path_of_file(config: Config, target: str) -> str | None:
    """The URL path of ``target`` when it names a file on disk (the path ``check``
    takes), which must lie under the storage root to be served at all; None when
    it names no file, and is then read as a URL path."""
    candidate = Path(target).expanduser()
    if not candidate.is_file():
        if target.startswith(("./", "../", "~")):
            raise UsageError(f"{target}: no such file on disk")
        return None
    root = config.storage.root
    if root is None:
        raise UsageError(
            f"{target} is a file on disk, but the storage is {config.storage.backend}: "
            "give its stored path (/folder/name.jpg) or its URL"
        )
    resolved, root = candidate.resolve(), root.resolve()
    if not resolved.is_relative_to(root):
        raise UsageError(
            f"{target} is not under the storage root {root}, so it is not served: copy it "
            f"there (or upload it), or run `media-origin check {target}` for the file alone"
        )
    return "/" + resolved.relative_to(root).as_posix()


def explain_stored(config: Config, target: str) -> Explanation:
    """Exactly the headers the origin sends for ``target``, from the serving code itself;
    the bytes come through the storage, whatever the backend."""
    from origin.app import make_storage

    url_path = "/" + urlsplit(target).path.lstrip("/")
    path = storage_path(url_path)
    # The storage and the representations only: the headers GET sends, without
    # the rest of the app (the upload API, the log, the metrics), and a storage
    # that leaves the root as it found it.
    storage = make_storage(config, diagnostic=True)
    try:
        return _explain_stored(storage, config, url_path, path)
    finally:
        storage.close()


def _explain_stored(storage, config: Config, url_path: str, path: str | None) -> Explanation:
    representations = Representations(storage, config.policies)
    representation = asyncio.run(representations.get(url_path, path)) if path else None
    if representation is None:
        where = f" under {config.storage.root}" if config.storage.root is not None else ""
        problem = Problem(
            "http_error",
            ERROR,
            f"HTTP 404: nothing is served at {url_path} (no such file{where}); "
            "check the path, or upload the file there",
        )
        return Explanation(url_path, 404, {}, None, NOT_FETCHED, [problem])
    headers = {name.decode(): value.decode() for name, value in representation.ok_headers}
    view, problems = meta_caching(headers)
    with tempfile.TemporaryDirectory(prefix="media-origin-explain-") as folder:
        file = Path(folder) / "body"
        asyncio.run(_copy_out(storage, path, representation.stat, file))
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
            problem = Problem("http_error", ERROR, _transport_failure(url, error))
            return Explanation(url, None, {}, None, NOT_FETCHED, [problem])
        with body.open("rb") as handle:
            sniffed = sniff(handle.read(HEAD_BYTES), body)
        if not 200 <= status < 300:
            problems = check_response(status, headers, sniffed)
            return Explanation(url, status, headers, None, NOT_FETCHED, _unique(problems))
        view, problems = meta_caching(headers)
        problems += check_response(status, headers, sniffed)
        if 200 <= status < 300 and not any(p.level == ERROR for p in problems) and complete:
            problems += inspect_file(body, _media_name(url, headers)).problems
    return Explanation(url, status, headers, None, view, _unique(problems))


def _transport_failure(url: str, error: Exception) -> str:
    """No HTTP answer, said with what to look at: Meta's fetch fails the same way."""
    import httpx

    host = urlsplit(url).netloc
    if isinstance(error, httpx.ConnectError):
        cause, fix = f"cannot connect to {host} ({error})", "check that a server runs there"
    elif isinstance(error, httpx.TimeoutException):
        cause, fix = f"{host} did not answer within {TIMEOUT_SECONDS} s", "check the server"
    else:
        cause, fix = f"the fetch failed ({error})", "check the URL and the server"
    return f"no HTTP answer: {cause}; Meta's fetch fails the same way (error 131053): {fix}"


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


def run_explain(
    config: Config, target: str, as_json: bool, out: TextIO, err: TextIO | None = None
) -> int:
    """Print the explanation; exit 0 (Meta takes the link), 1 (it fails), 2 (no link)."""
    try:
        explanation = explain(config, target)
    except UsageError as error:
        print(f"media-origin explain: {error}", file=err or sys.stderr)
        return EXIT_USAGE
    if as_json:
        json.dump(explanation.to_json(), out, indent=2, ensure_ascii=False)
        out.write("\n")
    else:
        out.write(format_explanation(explanation))
    return EXIT_LINK_FAILS if explanation.failed or explanation.stopped else EXIT_OK


def format_explanation(explanation: Explanation) -> str:
    """The whole story for a link that answers 2xx; one line for one that does not."""
    if explanation.stopped:
        first = next((p for p in explanation.problems if p.level == ERROR), None)
        reason = first.message if first else f"HTTP {explanation.status}"
        return f"{explanation.target}  ->  {reason}\n"
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
