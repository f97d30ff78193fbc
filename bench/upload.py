"""Upload a 100 MB document to media-origin and to a plain Starlette streaming
endpoint (same run, same machine), and report time, throughput and the
server's peak memory growth.

    python bench/upload.py [--rounds 3] [--size-mb 100]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import threading
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.run import WORK, Server, running

TOKEN = "bench-token"


def document(size: int) -> Path:
    path = WORK / f"upload-{size}.pdf"
    if not path.exists() or path.stat().st_size != size:
        WORK.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as file:
            file.write(b"%PDF-1.4\n")
            remaining = size - 9
            while remaining > 0:
                chunk = os.urandom(min(remaining, 1 << 20))
                file.write(chunk)
                remaining -= len(chunk)
    return path


def upload(server: Server, source: Path, headers: dict[str, str]) -> tuple[float, float]:
    """(seconds, peak RSS growth in MiB) of one PUT."""
    before = server.rss_kib()
    peak = [before]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], server.rss_kib())
            time.sleep(0.01)

    sampler = threading.Thread(target=sample)
    sampler.start()
    started = time.monotonic()
    try:
        with source.open("rb") as file, httpx.Client(timeout=120) as http:
            response = http.put(f"{server.url}/docs/big.pdf", content=file, headers=headers)
    finally:
        done.set()
        sampler.join()
    if response.status_code not in (200, 201):
        raise RuntimeError(f"{server.name}: {response.status_code} {response.text[:200]}")
    return time.monotonic() - started, (peak[0] - before) / 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--size-mb", type=int, default=100)
    args = parser.parse_args()
    size = args.size_mb * 1_000_000
    source = document(size)
    root = WORK / "uploads-root"
    config = WORK / "upload.toml"
    config.write_text('[storage]\nroot = "uploads-root"\n[api]\ntoken_env = "BENCH_TOKEN"\n')
    python = sys.executable
    servers = [
        (
            Server(
                "media-origin",
                [python, "-m", "origin", "serve", "--config", str(config), "--port", "{PORT}"],
                env={"BENCH_TOKEN": TOKEN},
            ),
            {"Authorization": f"Bearer {TOKEN}"},
        ),
        (
            Server(
                "starlette stream",
                [
                    python,
                    "-m",
                    "uvicorn",
                    "--factory",
                    "bench.peers:starlette_upload",
                    "--port",
                    "{PORT}",
                    "--no-access-log",
                    "--log-level",
                    "warning",
                ],
            ),
            {},
        ),
    ]
    results: dict[str, list[tuple[float, float]]] = {}
    for round_number in range(args.rounds):
        for server, headers in servers if round_number % 2 == 0 else servers[::-1]:
            shutil.rmtree(root, ignore_errors=True)
            root.mkdir(parents=True)
            with running(server, root, probe=None):
                results.setdefault(server.name, []).append(upload(server, source, headers))
    print(f"\nPUT of a {args.size_mb} MB document, median of {args.rounds} rounds, 127.0.0.1\n")
    print(f"{'server':20}{'seconds':>10}{'MB/s':>10}{'peak RSS growth, MiB':>24}")
    for name, runs in results.items():
        seconds = statistics.median(r[0] for r in runs)
        growth = statistics.median(r[1] for r in runs)
        print(f"{name:20}{seconds:>10.2f}{size / 1e6 / seconds:>10.0f}{growth:>24.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
