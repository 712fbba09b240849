"""Fixtures for the upload tests: the media storage, local or a real S3-compatible server.

`media` runs a test twice: against local files in a temporary folder, and against moto's
standalone S3 server (a dev requirement) started once per session on loopback, each test
under its own prefix in one bucket, reached through django-storages as in production.
"""

import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from rest_framework.test import APIClient

from accounts.models import User
from accounts.services import issue_tokens
from blog_project.storage_url import storage_from_url
from faces.api.v1 import FACE as V1

BUCKET = "quill-test-media"


@dataclass
class S3Server:
    endpoint: str
    port: int
    client: Any  # boto3's S3 client


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    """moto's S3-compatible server on a free loopback port, with an empty bucket."""
    executable = Path(sys.executable).parent / "moto_server"
    if not executable.exists():
        pytest.fail(f"{executable} is missing: install requirements-dev.txt (moto[server]) into .venv.")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    log = tmp_path_factory.mktemp("moto") / "moto.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [str(executable), "-H", "127.0.0.1", "-p", str(port)], stdout=output, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                pytest.fail(f"moto_server exited with {process.returncode}:\n{log.read_text()}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(f"moto_server did not listen on 127.0.0.1:{port} in 30 s:\n{log.read_text()}")
                time.sleep(0.1)
        endpoint = f"http://127.0.0.1:{port}"
        client = boto3.client(
            "s3",
            endpoint_url=endpoint,
            aws_access_key_id="test",
            aws_secret_access_key="test",
            region_name="us-east-1",
        )
        client.create_bucket(Bucket=BUCKET)
        yield S3Server(endpoint, port, client)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class Media:
    """The storage a test runs against, and what is stored in it."""

    kind: str

    def names(self) -> list[str]:
        raise NotImplementedError

    def read(self, name: str) -> bytes:
        raise NotImplementedError


class LocalMedia(Media):
    kind = "local"

    def __init__(self, root: Path):
        self.root = root

    def names(self) -> list[str]:
        return sorted(str(path.relative_to(self.root)) for path in self.root.rglob("*") if path.is_file())

    def read(self, name: str) -> bytes:
        return (self.root / name).read_bytes()


class S3Media(Media):
    kind = "s3"

    def __init__(self, server: S3Server, prefix: str):
        self.server = server
        self.prefix = prefix

    def names(self) -> list[str]:
        listing = self.server.client.list_objects_v2(Bucket=BUCKET, Prefix=f"{self.prefix}/")
        return sorted(item["Key"].removeprefix(f"{self.prefix}/") for item in listing.get("Contents", []))

    def object(self, name: str) -> dict[str, Any]:
        return self.server.client.get_object(Bucket=BUCKET, Key=f"{self.prefix}/{name}")

    def read(self, name: str) -> bytes:
        return self.object(name)["Body"].read()


@pytest.fixture(params=["local", "s3"])
def media(request: pytest.FixtureRequest, settings: Any, tmp_path: Path) -> Media:
    """The media storage, once local files and once the S3-compatible server."""
    if request.param == "local":
        settings.MEDIA_ROOT = tmp_path / "media"
        settings.STORAGES = {
            **settings.STORAGES,
            "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        }
        settings.MEDIA_ROOT.mkdir()
        return LocalMedia(settings.MEDIA_ROOT)
    server: S3Server = request.getfixturevalue("s3_server")
    prefix = f"test-{uuid.uuid4().hex[:12]}"
    url = f"s3://test:test@127.0.0.1:{server.port}/{BUCKET}/{prefix}?secure=false&addressing=path"
    settings.STORAGES = {**settings.STORAGES, "default": storage_from_url(url)}
    return S3Media(server, prefix)


@pytest.fixture
def bearer_client():
    """Makes an API client that sends a fresh `Authorization: Bearer` access token for a user."""

    def make(user: User) -> APIClient:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {issue_tokens(user=user, face=V1.name).access}")
        return client

    return make
