"""The FileStorage port, held to one behaviour on a local folder and in memory."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from cpd.adapters.file_storage import LocalFileStorage, MemoryFileStorage
from cpd.domain.errors import InvalidInput, NotFound
from cpd.ports.services import FileStorage

PDF = "application/pdf"


@pytest.fixture(params=["local", "memory"])
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> FileStorage:
    if request.param == "local":
        return LocalFileStorage(tmp_path / "files")
    return MemoryFileStorage()


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
