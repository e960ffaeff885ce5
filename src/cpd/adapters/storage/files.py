"""File storage: a local folder (the default, ``./var/files``) and a dict in memory (tests);
an S3-compatible bucket is in ``s3_storage`` and shares ``check_key``.

Keys are checked before they touch a path: relative segments of letters, digits, ``.``, ``_``
and ``-`` only, so no key can climb out of the folder (``..``, absolute paths, backslashes,
NUL) whatever the caller passes. Writes go to a temporary file renamed into place, so a
reader sees the old bytes or the new, never half a PDF.
"""

from __future__ import annotations

import os
import re
import uuid
from pathlib import Path

from cpd.adapters.threads import BlockingPool
from cpd.domain.errors import InvalidInput, NotFound

_SEGMENT = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
MAX_KEY_LENGTH = 512


def check_key(key: str) -> list[str]:
    """The key's path segments; InvalidInput (field ``key``) for anything that is not a plain
    relative path of safe names."""
    segments = key.split("/")
    if (
        not key
        or len(key) > MAX_KEY_LENGTH
        or any(not _SEGMENT.fullmatch(part) for part in segments)
    ):
        raise InvalidInput(
            "A storage key is a relative path of names made of letters, digits, '.', '_' "
            "and '-' (each starting with a letter or digit).",
            field="key",
        )
    return segments


class LocalFileStorage:
    """The ``FileStorage`` port on a folder of the local file system."""

    def __init__(self, root: Path, *, threads: int = 4) -> None:
        self._root = root
        self._pool = BlockingPool("files", threads)

    def close(self) -> None:
        self._pool.close()

    def _path(self, key: str) -> Path:
        path = self._root.joinpath(*check_key(key))
        # Defence in depth: a symlink planted inside the folder must not lead out of it.
        root = self._root.resolve()
        if not path.resolve().is_relative_to(root):
            raise InvalidInput("The key leads outside the storage folder.", field="key")
        return path

    async def put(self, key: str, data: bytes, *, content_type: str) -> None:
        await self._pool.run(self._put, self._path(key), data)

    async def get(self, key: str) -> bytes:
        path = self._path(key)
        try:
            return await self._pool.run(path.read_bytes)
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise NotFound(f"Nothing is stored under {key}.", field="key") from None

    async def delete(self, key: str) -> None:
        path = self._path(key)
        await self._pool.run(path.unlink, missing_ok=True)

    async def exists(self, key: str) -> bool:
        path = self._path(key)
        return await self._pool.run(path.is_file)

    @staticmethod
    def _put(path: Path, data: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
        try:
            with tmp.open("wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())  # the bytes are on disk before the name points at them
            tmp.replace(path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise


class MemoryFileStorage:
    """The ``FileStorage`` port in a dict, with the same key rules (tests, memory mode)."""

    def __init__(self) -> None:
        self.files: dict[str, tuple[bytes, str]] = {}

    async def put(self, key: str, data: bytes, *, content_type: str) -> None:
        check_key(key)
        self.files[key] = (bytes(data), content_type)

    async def get(self, key: str) -> bytes:
        check_key(key)
        try:
            return self.files[key][0]
        except KeyError:
            raise NotFound(f"Nothing is stored under {key}.", field="key") from None

    async def delete(self, key: str) -> None:
        check_key(key)
        self.files.pop(key, None)

    async def exists(self, key: str) -> bool:
        check_key(key)
        return key in self.files
