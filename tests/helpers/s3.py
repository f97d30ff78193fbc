"""moto's S3 server on 127.0.0.1, and buckets in it, for the S3 backend's tests."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import time

import httpx

from tests.helpers.servers import STARTUP_SECONDS, free_port

# moto accepts any credentials; these are set for the session by the s3_endpoint
# fixture (never at import), so no real ones are ever sent, even to loopback.
CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


class S3Endpoint:
    """``python -m moto.server`` on a free port of 127.0.0.1; can be stopped and restarted."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            try:
                httpx.get(self.url + "/moto-api/", timeout=1)
                return
            except httpx.HTTPError:
                time.sleep(0.05)
        raise RuntimeError("moto server did not start")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)

    def client(self):
        import boto3

        return boto3.client("s3", endpoint_url=self.url, region_name="us-east-1")


class Bucket:
    def __init__(self, endpoint: S3Endpoint, name: str) -> None:
        self.endpoint = endpoint
        self.name = name
        self.s3 = endpoint.client()
        self.s3.create_bucket(Bucket=name)

    def storage_table(self, metadata_ttl: float = 1.0) -> str:
        return (
            f'[storage]\nbackend = "s3"\nbucket = "{self.name}"\n'
            f'endpoint_url = "{self.endpoint.url}"\nregion = "us-east-1"\n'
            f"metadata_ttl = {metadata_ttl}\ntimeout = 3\n"
        )

    def put(self, key: str, content: bytes | str) -> None:
        """As another tool would (aws s3 cp): no media-origin metadata."""
        body = content.encode() if isinstance(content, str) else content
        self.s3.put_object(Bucket=self.name, Key=key, Body=body)

    def put_as_origin(self, key: str, content: bytes) -> None:
        """As another media-origin instance's upload would: the content hash and the
        mtime as object metadata, so its ETag is the SHA-256 derived one."""
        digest = hashlib.sha256(content).hexdigest()[:32]
        metadata = {"sha256": digest, "mtime": f"{time.time():.3f}"}
        self.s3.put_object(Bucket=self.name, Key=key, Body=content, Metadata=metadata)

    def keys(self) -> set[str]:
        listing = self.s3.list_objects_v2(Bucket=self.name)
        return {entry["Key"] for entry in listing.get("Contents", [])}


_bucket_numbers = iter(range(1_000_000))


def new_bucket(endpoint: S3Endpoint) -> Bucket:
    return Bucket(endpoint, f"media-origin-test-{next(_bucket_numbers)}")
