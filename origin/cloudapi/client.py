"""The one place the bridge talks to the provider: a built ``Call`` sent over
HTTP, the stored bytes streamed from a file as the form's ``file``, tried again
as ``calls.retry_after`` says, all within the call's time budget
(``[whatsapp] timeout``, retries included).

Blocking on purpose, run in a worker thread by the async callers: httpx streams
a multipart file from a real file object only in its blocking client, and a
media upload must not hold its bytes in memory.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx

from origin.cloudapi.calls import Call, ProviderError, read_answer, retry_after

logger = logging.getLogger("media_origin")


@dataclass(frozen=True, slots=True)
class Attachment:
    path: Path  # a local copy of the stored bytes
    name: str  # the file name the provider is told
    content_type: str


class Client:
    def __init__(
        self,
        timeout: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.timeout, self.clock, self.sleep = timeout, clock, sleep
        self.http = httpx.Client(follow_redirects=False, trust_env=False)

    def close(self) -> None:
        self.http.close()

    def send(self, call: Call, answer_key: str, attachment: Attachment | None = None) -> str:
        """The answer's ``answer_key`` (``id``, ``wamid``, ``success``); ProviderError
        when the provider refused, or did not answer in time after its retries."""
        deadline = self.clock() + self.timeout
        attempt = 0
        while True:
            attempt += 1
            left = deadline - self.clock()
            status, body, header = self._attempt(call, attachment, max(left, 0.001))
            if 200 <= status < 300 or retry_after(status, attempt, header) is None:
                break
            wait = retry_after(status, attempt, header) or 0.0
            if self.clock() + wait >= deadline:
                break
            logger.warning(
                "whatsapp: %s %s answered %s; trying again in %.2f s (attempt %d)",
                call.method,
                _shown(call.url),
                status or "nothing",
                wait,
                attempt + 1,
            )
            self.sleep(wait)
        if status == 0:
            raise ProviderError(0, "unreachable", f"the provider did not answer: {body.decode()}")
        return read_answer(status, body, answer_key)

    def _attempt(
        self, call: Call, attachment: Attachment | None, timeout: float
    ) -> tuple[int, bytes, str | None]:
        """(status, body, Retry-After) of one attempt; status 0 when none came."""
        try:
            if attachment is not None:
                with attachment.path.open("rb") as file:
                    files = {"file": (attachment.name, file, attachment.content_type)}
                    answer = self.http.request(
                        call.method,
                        call.url,
                        headers=call.headers,
                        data=call.fields,
                        files=files,
                        timeout=timeout,
                    )
            else:
                answer = self.http.request(
                    call.method, call.url, headers=call.headers, json=call.body, timeout=timeout
                )
        except httpx.TimeoutException:
            return 0, f"no answer within {timeout:.1f} s".encode(), None
        except httpx.HTTPError as error:
            return 0, f"{type(error).__name__}: {error}".encode(), None
        return answer.status_code, answer.content[:100_000], answer.headers.get("retry-after")


def _shown(url: str) -> str:
    """The URL as logged: without its query (a phone_number_id is no secret, but
    nothing after ? needs to be in a log)."""
    return url.split("?", 1)[0]
