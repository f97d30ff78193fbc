"""Which S3 client for the S3 backend: aiobotocore, obstore, or boto3 in a thread,
measured in one run against a local S3 endpoint (moto's server on 127.0.0.1).

    python bench/s3_clients.py [--rounds 5]

Each client is warmed by one request first, as in a long-running server.
Prints time to first byte of a 1 MB ranged read, throughput of a full 16 MB
read, and the peak RSS growth of this process while reading. moto is itself a
Python server, so absolute figures say more about moto than about S3; the
comparison between clients on the same endpoint is what this is for.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.run import free_port

SIZE = 16 * 1024 * 1024
BUCKET = "bench-media"
RANGE = (4 * 1024 * 1024, 5 * 1024 * 1024 - 1)
ENV = {
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "AWS_DEFAULT_REGION": "us-east-1",
}


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def aiobotocore_reads(endpoint: str) -> tuple[float, float]:
    from aiobotocore.session import get_session

    async with get_session().create_client(
        "s3", endpoint_url=endpoint, region_name="us-east-1"
    ) as s3:
        started = time.perf_counter()
        response = await s3.get_object(Bucket=BUCKET, Key="k", Range=f"bytes={RANGE[0]}-{RANGE[1]}")
        await response["Body"].read(1)
        ttfb = time.perf_counter() - started
        await response["Body"].read()
        started = time.perf_counter()
        response = await s3.get_object(Bucket=BUCKET, Key="k")
        async for _ in response["Body"].iter_chunks(256 * 1024):
            pass
        return ttfb, SIZE / (time.perf_counter() - started) / 2**20


async def obstore_reads(endpoint: str) -> tuple[float, float]:
    import obstore
    from obstore.store import S3Store

    store = S3Store(
        BUCKET, endpoint=endpoint, region="us-east-1", client_options={"allow_http": True}
    )
    started = time.perf_counter()
    result = await obstore.get_async(store, "k", options={"range": (RANGE[0], RANGE[1] + 1)})
    stream = result.stream()
    await stream.__anext__()
    ttfb = time.perf_counter() - started
    async for _ in stream:
        pass
    started = time.perf_counter()
    result = await obstore.get_async(store, "k")
    async for _ in result.stream(min_chunk_size=256 * 1024):
        pass
    return ttfb, SIZE / (time.perf_counter() - started) / 2**20


async def boto3_thread_reads(endpoint: str) -> tuple[float, float]:
    import boto3

    s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")

    def ranged():
        s3.get_object(Bucket=BUCKET, Key="k", Range="bytes=0-0")["Body"].read()
        started = time.perf_counter()
        body = s3.get_object(Bucket=BUCKET, Key="k", Range=f"bytes={RANGE[0]}-{RANGE[1]}")["Body"]
        body.read(1)
        ttfb = time.perf_counter() - started
        body.read()
        return ttfb

    def full():
        started = time.perf_counter()
        body = s3.get_object(Bucket=BUCKET, Key="k")["Body"]
        for _ in body.iter_chunks(256 * 1024):
            pass
        return SIZE / (time.perf_counter() - started) / 2**20

    return await asyncio.to_thread(ranged), await asyncio.to_thread(full)


CLIENTS = {
    "aiobotocore": aiobotocore_reads,
    "obstore": obstore_reads,
    "boto3 in a thread": boto3_thread_reads,
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    os.environ.update(ENV)
    port = free_port()
    moto = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        import boto3

        for _ in range(100):
            try:
                s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
                s3.create_bucket(Bucket=BUCKET)
                break
            except Exception:
                time.sleep(0.1)
        s3.put_object(Bucket=BUCKET, Key="k", Body=os.urandom(SIZE))
        results: dict[str, list[tuple[float, float, float]]] = {name: [] for name in CLIENTS}
        for round_number in range(args.rounds):
            names = list(CLIENTS) if round_number % 2 == 0 else list(CLIENTS)[::-1]
            for name in names:
                before = peak_rss_mib()
                ttfb, throughput = asyncio.run(CLIENTS[name](endpoint))
                results[name].append((ttfb, throughput, peak_rss_mib() - before))
    finally:
        moto.terminate()
        moto.wait(timeout=10)
    print(f"\nmoto server on 127.0.0.1, {args.rounds} alternating rounds, medians\n")
    columns = ("1 MB range TTFB, ms", "16 MB read, MiB/s", "peak RSS growth, MiB")
    print(f"{'client':20}{columns[0]:>22}{columns[1]:>20}{columns[2]:>24}")
    for name, runs in results.items():
        ttfb = statistics.median(r[0] for r in runs) * 1000
        rate = statistics.median(r[1] for r in runs)
        growth = max(r[2] for r in runs)
        print(f"{name:20}{ttfb:>22.1f}{rate:>20.0f}{growth:>24.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
