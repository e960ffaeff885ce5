"""The FileStorage port on an S3-compatible bucket (AWS S3, MinIO, Ceph...), with aiobotocore.

Keys follow the same rules as the local folder (``check_key``) and are stored under an optional
prefix inside the bucket. An S3 PUT replaces the whole object or nothing, so a reader sees the
old bytes or the new; the body's MD5 goes with it (``Content-MD5``), so the service refuses a
body damaged on the way rather than storing it.

The client is opened on first use (its HTTP session belongs to the running event loop) and
closed by ``aclose`` when the container shuts down.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
from contextlib import AsyncExitStack
from typing import TYPE_CHECKING

from aiobotocore.config import AioConfig
from aiobotocore.session import get_session
from botocore.exceptions import ClientError

from cpd.adapters.storage.files import check_key
from cpd.domain.errors import NotFound

if TYPE_CHECKING:
    from types_aiobotocore_s3 import S3Client

_MISSING_KEY = {"NoSuchKey", "404", "NotFound"}


class S3FileStorage:
    """The ``FileStorage`` port on one bucket of an S3-compatible service."""

    def __init__(
        self,
        bucket: str,
        *,
        prefix: str = "",
        endpoint_url: str | None = None,
        region: str = "us-east-1",
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
    ) -> None:
        """``endpoint_url`` None talks to AWS; credentials None use botocore's default chain
        (environment, shared files, instance or task role)."""
        prefix = prefix.strip("/")
        if prefix:
            check_key(prefix)  # the same safe segments as the keys themselves
        self._bucket = bucket
        self._prefix = f"{prefix}/" if prefix else ""
        self._endpoint_url = endpoint_url
        self._region = region
        self._access_key_id = access_key_id
        self._secret_access_key = secret_access_key
        self._config = AioConfig(
            # MinIO, Ceph and most other S3-compatible services expect path-style addresses
            # (http://host/bucket/key); AWS itself keeps botocore's choice.
            s3={"addressing_style": "path" if endpoint_url else "auto"},
            retries={"mode": "standard"},
            # botocore's newer default CRC checksums are refused by some S3-compatible
            # services; Content-MD5 (below) is understood by all of them.
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        )
        self._client: S3Client | None = None
        self._exit_stack = AsyncExitStack()
        self._opening = asyncio.Lock()

    @property
    def bucket(self) -> str:
        return self._bucket

    @property
    def prefix(self) -> str:
        return self._prefix

    @property
    def is_open(self) -> bool:
        return self._client is not None

    async def put(self, key: str, data: bytes, *, content_type: str) -> None:
        name = self._name(key)
        client = await self._open()
        digest = hashlib.md5(data, usedforsecurity=False).digest()
        await client.put_object(
            Bucket=self._bucket,
            Key=name,
            Body=bytes(data),
            ContentType=content_type,
            ContentMD5=base64.b64encode(digest).decode("ascii"),
        )

    async def get(self, key: str) -> bytes:
        name = self._name(key)
        client = await self._open()
        try:
            response = await client.get_object(Bucket=self._bucket, Key=name)
        except ClientError as error:
            if _error_code(error) == "NoSuchKey":  # not NoSuchBucket: that is a wrong setting
                raise NotFound(f"Nothing is stored under {key}.", field="key") from None
            raise
        async with response["Body"] as body:
            return await body.read()

    async def delete(self, key: str) -> None:
        name = self._name(key)
        client = await self._open()
        await client.delete_object(Bucket=self._bucket, Key=name)  # a missing key is fine

    async def exists(self, key: str) -> bool:
        name = self._name(key)
        client = await self._open()
        try:
            await client.head_object(Bucket=self._bucket, Key=name)
        except ClientError as error:
            if _error_code(error) in _MISSING_KEY:
                return False
            raise
        return True

    async def ping(self) -> None:
        """Readiness (``HealthProbe``): the bucket answers and these credentials reach it."""
        client = await self._open()
        await client.head_bucket(Bucket=self._bucket)

    async def aclose(self) -> None:
        """Close the client's connections; the next call opens a new one."""
        async with self._opening:
            self._client = None
            await self._exit_stack.aclose()

    def _name(self, key: str) -> str:
        check_key(key)
        return self._prefix + key

    async def _open(self) -> S3Client:
        if self._client is not None:
            return self._client
        async with self._opening:
            if self._client is None:
                creator = get_session().create_client(
                    "s3",
                    region_name=self._region,
                    endpoint_url=self._endpoint_url,
                    aws_access_key_id=self._access_key_id,
                    aws_secret_access_key=self._secret_access_key,
                    config=self._config,
                )
                self._client = await self._exit_stack.enter_async_context(creator)
            return self._client


def _error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))
