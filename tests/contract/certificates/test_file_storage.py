"""The FileStorage port, held to one behaviour on a local folder, in memory and on S3.

The S3 adapter talks to a local S3-compatible server (Moto's, ``tests/s3_server.py``) over
real HTTP, so its requests and the service's error replies are exercised, not mocked.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from cpd.adapters.storage.files import LocalFileStorage, MemoryFileStorage
from cpd.adapters.storage.s3 import S3FileStorage
from cpd.domain.errors import InvalidInput, NotFound
from cpd.ports.platform import FileStorage
from tests.support.s3_server import ACCESS_KEY_ID, REGION, SECRET_ACCESS_KEY, S3Server

PDF = "application/pdf"


def s3_storage(server: S3Server, bucket: str, *, prefix: str = "") -> S3FileStorage:
    return S3FileStorage(
        bucket,
        prefix=prefix,
        endpoint_url=server.endpoint_url,
        region=REGION,
        access_key_id=ACCESS_KEY_ID,
        secret_access_key=SECRET_ACCESS_KEY,
    )


@pytest.fixture(params=["local", "memory", "s3"])
async def storage(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[FileStorage]:
    if request.param == "local":
        yield LocalFileStorage(tmp_path / "files")
    elif request.param == "memory":
        yield MemoryFileStorage()
    else:
        server: S3Server = request.getfixturevalue("s3_server")
        s3 = s3_storage(server, server.new_bucket(), prefix="cpd")
        yield s3
        await s3.aclose()


async def test_what_is_put_can_be_read_back_and_deleted(storage: FileStorage) -> None:
    key = "certificates/7c1f/0001-v2.pdf"
    assert not await storage.exists(key)
    await storage.put(key, b"%PDF-1.7 first", content_type=PDF)
    await storage.put(key, b"%PDF-1.7 second", content_type=PDF)  # overwrite
    assert await storage.exists(key)
    assert await storage.get(key) == b"%PDF-1.7 second"
    await storage.delete(key)
    await storage.delete(key)  # again: fine
    assert not await storage.exists(key)
    with pytest.raises(NotFound):
        await storage.get(key)


@pytest.mark.parametrize(
    "key",
    [
        "",
        "../secret",
        "certificates/../../etc/passwd",
        "/etc/passwd",
        "a//b",
        "a/",
        "a\\..\\b",
        ".hidden",
        "a/./b",
        "a\x00b",
        "caf\u00e9.pdf",
        "x" * 600,
    ],
)
async def test_keys_that_could_escape_are_refused(storage: FileStorage, key: str) -> None:
    for call in (
        storage.put(key, b"x", content_type=PDF),
        storage.get(key),
        storage.exists(key),
        storage.delete(key),
    ):
        with pytest.raises(InvalidInput) as error:
            await call
        assert error.value.field == "key"


async def test_a_directory_is_not_a_file(storage: FileStorage) -> None:
    await storage.put("a/b.pdf", b"x", content_type=PDF)
    assert not await storage.exists("a")
    with pytest.raises(NotFound):
        await storage.get("a")


async def test_local_writes_are_atomic_and_leave_no_temporary_files(tmp_path: Path) -> None:
    storage = LocalFileStorage(tmp_path)
    key = "certificates/org/one.pdf"
    old, new = b"A" * 2_000_000, b"B" * 2_000_000
    await storage.put(key, old, content_type=PDF)

    seen: set[bytes] = set()

    async def read_while_writing() -> None:
        for _ in range(50):
            seen.add(await storage.get(key))

    await asyncio.gather(
        read_while_writing(), *(storage.put(key, new, content_type=PDF) for _ in range(5))
    )
    assert seen <= {old, new}  # never a torn file
    assert sorted(p.name for p in (tmp_path / "certificates/org").iterdir()) == ["one.pdf"]


async def test_a_symlink_out_of_the_folder_is_not_followed(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.pdf").write_bytes(b"secret")
    root = tmp_path / "files"
    root.mkdir()
    os.symlink(outside, root / "link")
    storage = LocalFileStorage(root)
    with pytest.raises(InvalidInput):
        await storage.get("link/secret.pdf")
    with pytest.raises(InvalidInput):
        await storage.put("link/new.pdf", b"x", content_type=PDF)
    assert not (outside / "new.pdf").exists()


@pytest.fixture
async def s3(s3_server: S3Server) -> AsyncIterator[S3FileStorage]:
    storage = s3_storage(s3_server, s3_server.new_bucket(), prefix="/tenant-a/files/")
    yield storage
    await storage.aclose()


async def test_s3_stores_the_content_type_under_the_prefix(
    s3: S3FileStorage, s3_server: S3Server
) -> None:
    await s3.put("certificates/org/one.pdf", b"%PDF-1.7", content_type=PDF)
    client = s3_server.client()
    listed = client.list_objects_v2(Bucket=s3.bucket)["Contents"]
    assert [item["Key"] for item in listed] == ["tenant-a/files/certificates/org/one.pdf"]
    head = client.head_object(Bucket=s3.bucket, Key="tenant-a/files/certificates/org/one.pdf")
    assert head["ContentType"] == PDF
    assert head["ContentLength"] == len(b"%PDF-1.7")


async def test_s3_objects_outside_the_prefix_are_not_seen(
    s3: S3FileStorage, s3_server: S3Server
) -> None:
    s3_server.client().put_object(Bucket=s3.bucket, Key="elsewhere.pdf", Body=b"x")
    assert not await s3.exists("elsewhere.pdf")
    with pytest.raises(NotFound):
        await s3.get("elsewhere.pdf")


async def test_s3_writes_replace_whole_objects(s3: S3FileStorage) -> None:
    key = "certificates/org/one.pdf"
    old, new = b"A" * 300_000, b"B" * 300_000
    await s3.put(key, old, content_type=PDF)
    seen: set[bytes] = set()

    async def read_while_writing() -> None:
        for _ in range(10):
            seen.add(await s3.get(key))

    await asyncio.gather(
        read_while_writing(), *(s3.put(key, new, content_type=PDF) for _ in range(3))
    )
    assert seen <= {old, new}
    assert await s3.get(key) == new


async def test_s3_a_missing_bucket_is_an_error_not_a_missing_file(s3_server: S3Server) -> None:
    storage = s3_storage(s3_server, "cpd-no-such-bucket")
    try:
        with pytest.raises(ClientError, match="NoSuchBucket"):
            await storage.get("certificates/one.pdf")
        with pytest.raises(ClientError, match="NoSuchBucket"):
            await storage.put("certificates/one.pdf", b"x", content_type=PDF)
    finally:
        await storage.aclose()


async def test_s3_a_closed_storage_opens_again(s3: S3FileStorage) -> None:
    await s3.put("one.pdf", b"1", content_type=PDF)
    await s3.aclose()
    assert await s3.get("one.pdf") == b"1"


def test_s3_prefix_follows_the_key_rules() -> None:
    with pytest.raises(InvalidInput):
        S3FileStorage("bucket", prefix="../other")
