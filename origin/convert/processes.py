"""A conversion's child process, guarded: CPU seconds and address space bounded
by setrlimit in the child, the idle scheduling class (SCHED_IDLE, with a lower
niceness where that is refused) and the cores left after those kept for serving
([convert] serving_cores), so that a request waking the server takes a core at
once rather than a share of it, a wall-clock timeout, its own process group so
that a kill takes every thread and child with it, and bounded output. Cancelling
the awaiting task (a server stopping) kills the process too: nothing outlives
what started it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import resource
import signal
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

STDERR_TAIL = 4096  # bytes of a child's complaints kept for the log and the error
NICENESS = 10


@dataclass(frozen=True, slots=True)
class Limits:
    seconds: float  # wall clock
    cpu_seconds: int
    memory_bytes: int
    cpus: frozenset[int] | None = None  # the cores the child may run on; None: every core


@dataclass(frozen=True, slots=True)
class Finished:
    returncode: int
    stdout: bytes
    stderr: str  # the last STDERR_TAIL bytes, decoded leniently
    timed_out: bool
    out_of_memory: bool  # the child died of the memory bound (a MemoryError, or a signal)


def _bound(limits: Limits) -> None:
    """Run in the child, between fork and exec."""
    resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_seconds, limits.cpu_seconds + 5))
    resource.setrlimit(resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    with contextlib.suppress(OSError):
        os.nice(NICENESS)
    with contextlib.suppress(OSError, AttributeError):
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
    if limits.cpus:
        with contextlib.suppress(OSError):
            os.sched_setaffinity(0, limits.cpus)


async def run(
    argv: Sequence[str],
    limits: Limits,
    cwd: Path,
    on_line: Callable[[bytes], None] | None = None,
    stdin: bytes | None = None,
) -> Finished:
    """Run ``argv`` to its end (or its timeout); ``on_line`` is told each line of
    stdout as it comes (ffmpeg's progress), else stdout is kept whole."""
    process = await asyncio.create_subprocess_exec(
        *argv,
        stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=cwd,
        start_new_session=True,
        preexec_fn=lambda: _bound(limits),
    )
    kept: list[bytes] = []
    tail = bytearray()

    async def read_stdout() -> None:
        assert process.stdout is not None
        async for line in process.stdout:
            if on_line is not None:
                on_line(line)
            elif sum(map(len, kept)) < 1_000_000:
                kept.append(line)

    async def read_stderr() -> None:
        assert process.stderr is not None
        while chunk := await process.stderr.read(65536):
            tail.extend(chunk)
            del tail[:-STDERR_TAIL]

    async def feed() -> None:
        if stdin is not None and process.stdin is not None:
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                process.stdin.write(stdin)
                await process.stdin.drain()
                process.stdin.close()

    timed_out = False
    try:
        await asyncio.wait_for(
            asyncio.gather(feed(), read_stdout(), read_stderr(), process.wait()), limits.seconds
        )
    except TimeoutError:
        timed_out = True
    finally:
        if process.returncode is None:
            _kill(process)
            await process.wait()
    stderr = tail.decode("utf-8", "replace")
    out_of_memory = process.returncode in (-signal.SIGKILL, -signal.SIGSEGV) and not timed_out
    out_of_memory = out_of_memory or "MemoryError" in stderr or "Cannot allocate memory" in stderr
    return Finished(process.returncode, b"".join(kept), stderr, timed_out, out_of_memory)


def _kill(process: asyncio.subprocess.Process) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
