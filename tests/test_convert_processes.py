"""The guarded child: stopped at its timeout, bounded in memory, killed with its
group when the awaiting task is cancelled, its output bounded."""

import asyncio
import contextlib
import os
import sys
import time

from origin.convert.processes import STDERR_TAIL, Limits, run

LIMITS = Limits(seconds=10, cpu_seconds=20, memory_bytes=512 * 2**20)


def python(code: str) -> list[str]:
    return [sys.executable, "-c", code]


def test_a_child_runs_with_its_output(tmp_path):
    finished = asyncio.run(
        run(python("print('hi'); import os; print(os.nice(0))"), LIMITS, tmp_path)
    )
    lines = finished.stdout.decode().split()
    assert finished.returncode == 0 and lines[0] == "hi" and int(lines[1]) >= 10  # niced


def test_a_child_runs_in_the_idle_class_on_the_cores_it_was_given(tmp_path):
    cores = frozenset(sorted(os.sched_getaffinity(0))[-1:])
    limits = Limits(seconds=10, cpu_seconds=20, memory_bytes=512 * 2**20, cpus=cores)
    code = "import os; print(os.sched_getscheduler(0), sorted(os.sched_getaffinity(0)))"
    finished = asyncio.run(run(python(code), limits, tmp_path))
    policy, placed = finished.stdout.decode().split(" ", 1)
    assert int(policy) == os.SCHED_IDLE
    assert placed.strip() == str(sorted(cores))


def test_a_child_past_its_timeout_is_killed(tmp_path):
    started = time.monotonic()
    limits = Limits(seconds=0.5, cpu_seconds=20, memory_bytes=512 * 2**20)
    finished = asyncio.run(run(python("import time; time.sleep(30)"), limits, tmp_path))
    assert finished.timed_out and time.monotonic() - started < 5


def test_a_child_over_its_memory_bound_fails_and_says_so(tmp_path):
    limits = Limits(seconds=20, cpu_seconds=20, memory_bytes=256 * 2**20)
    finished = asyncio.run(run(python("b = bytearray(1024 * 2**20)"), limits, tmp_path))
    assert finished.returncode != 0 and finished.out_of_memory


def test_cancelling_the_wait_kills_the_child_and_its_children(tmp_path):
    pid_file = tmp_path / "pid"
    code = (
        "import os, subprocess, sys, time; "
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']); "
        f"open({str(pid_file)!r}, 'w').write(str(child.pid)); time.sleep(60)"
    )

    async def scenario():
        task = asyncio.create_task(run(python(code), LIMITS, tmp_path))
        for _ in range(100):
            await asyncio.sleep(0.05)
            if pid_file.exists() and pid_file.read_text():
                break
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    asyncio.run(scenario())
    grandchild = int(pid_file.read_text())
    for _ in range(50):
        try:
            os.kill(grandchild, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)
    raise AssertionError(f"the child's child {grandchild} outlived the cancelled conversion")


def test_stderr_is_kept_to_its_tail(tmp_path):
    code = "import sys; sys.stderr.write('x' * 100000 + 'END')"
    finished = asyncio.run(run(python(code), LIMITS, tmp_path))
    assert len(finished.stderr) == STDERR_TAIL and finished.stderr.endswith("END")
