"""Certificate rendering and file storage as the composition root wires them from settings."""

from __future__ import annotations

import io
import os
from dataclasses import replace
from pathlib import Path

import pypdf
import pytest
from litestar.testing import TestClient

from cpd.adapters.storage.files import LocalFileStorage, MemoryFileStorage
from cpd.adapters.storage.s3 import S3FileStorage
from cpd.bootstrap import build_container
from cpd.domain.certificates import sample_fields
from cpd.entrypoints.http.app import create_app
from cpd.settings import Settings, SettingsError
from tests.conftest import make_settings
from tests.s3_server import ACCESS_KEY_ID, REGION, SECRET_ACCESS_KEY, S3Server

CJK_FONTS = Path(__file__).parent.parent / "fixtures" / "fonts"


def test_settings_read_the_certificate_and_storage_variables(tmp_path: Path) -> None:
    settings = Settings.from_env(
        {
            "CPD_FILE_STORAGE": "local",
            "CPD_FILE_STORAGE_DIR": str(tmp_path / "files"),
            "CPD_CERTIFICATE_FONT_DIRS": f"{CJK_FONTS}{os.pathsep}{tmp_path}",
            "CPD_CERTIFICATE_RENDER_PROCESSES": "3",
            "CPD_CERTIFICATE_RENDER_SECONDS": "2.5",
            "CPD_CERTIFICATE_RENDER_MEMORY_MIB": "768",
            "CPD_CERTIFICATE_CHECKS_AT_ONCE": "4",
            "CPD_CERTIFICATE_CHECKS_PER_ORGANIZATION": "2",
        }
    )
    assert settings.certificate_font_paths == [str(CJK_FONTS), str(tmp_path)]
    assert settings.certificate_render_processes == 3
    assert (settings.certificate_render_seconds, settings.certificate_render_memory_mib) == (
        2.5,
        768,
    )
    assert settings.certificate_checks_at_once == 4
    assert settings.certificate_checks_per_organization == 2
    defaults = Settings()
    assert (defaults.file_storage, defaults.file_storage_dir) == ("local", "./var/files")
    assert defaults.certificate_font_paths == []


def test_s3_storage_is_accepted_with_a_bucket() -> None:
    settings = Settings.from_env(
        {
            "CPD_FILE_STORAGE": "s3",
            "CPD_S3_BUCKET": "cpd-files",
            "CPD_S3_ENDPOINT_URL": "http://minio:9000",
            "CPD_S3_REGION": "eu-west-3",
            "CPD_S3_ACCESS_KEY_ID": "key",
            "CPD_S3_SECRET_ACCESS_KEY": "secret",
            "CPD_S3_PREFIX": "cpd/prod/",
        }
    )
    assert (settings.file_storage, settings.s3_bucket, settings.s3_prefix) == (
        "s3",
        "cpd-files",
        "cpd/prod/",
    )
    assert (settings.s3_endpoint_url, settings.s3_region) == ("http://minio:9000", "eu-west-3")
    assert (settings.s3_access_key_id, settings.s3_secret_access_key) == ("key", "secret")
    aws = Settings.from_env({"CPD_FILE_STORAGE": "s3", "CPD_S3_BUCKET": "cpd-files"})
    assert (aws.s3_endpoint_url, aws.s3_region, aws.s3_prefix) == (None, "us-east-1", "")
    assert (aws.s3_access_key_id, aws.s3_secret_access_key) == (None, None)  # default chain


@pytest.mark.parametrize(
    ("env", "says"),
    [
        ({"CPD_CERTIFICATE_FONT_DIRS": "/no/such/folder"}, "CPD_CERTIFICATE_FONT_DIRS"),
        ({"CPD_CERTIFICATE_RENDER_PROCESSES": "0"}, "CPD_CERTIFICATE_RENDER_PROCESSES"),
        ({"CPD_CERTIFICATE_CHECK_SECONDS": "0"}, "CPD_CERTIFICATE_CHECK_SECONDS"),
        ({"CPD_CERTIFICATE_RENDER_SECONDS": "0"}, "CPD_CERTIFICATE_RENDER_SECONDS"),
        ({"CPD_CERTIFICATE_RENDER_MEMORY_MIB": "100"}, "CPD_CERTIFICATE_RENDER_MEMORY_MIB"),
        ({"CPD_CERTIFICATE_CHECKS_AT_ONCE": "0"}, "CPD_CERTIFICATE_CHECKS_AT_ONCE"),
        ({"CPD_CERTIFICATE_CHECKS_PER_ORGANIZATION": "0"}, "CHECKS_PER_ORGANIZATION"),
        ({"CPD_FILE_STORAGE": "s3"}, "CPD_S3_BUCKET"),
        ({"CPD_FILE_STORAGE": "ftp"}, "CPD_FILE_STORAGE"),
        ({"CPD_S3_ACCESS_KEY_ID": "key"}, "CPD_S3_SECRET_ACCESS_KEY"),
        ({"CPD_S3_SECRET_ACCESS_KEY": "secret"}, "CPD_S3_ACCESS_KEY_ID"),
        ({"CPD_S3_PREFIX": "../elsewhere"}, "CPD_S3_PREFIX"),
        ({"CPD_S3_PREFIX": "a//b"}, "CPD_S3_PREFIX"),
    ],
)
def test_bad_certificate_settings_are_refused(env: dict[str, str], says: str) -> None:
    with pytest.raises(SettingsError, match=says):
        Settings.from_env(env)


async def test_the_container_renders_with_the_configured_fonts_and_stores(tmp_path: Path) -> None:
    app = build_container(
        make_settings(
            certificate_font_dirs=str(CJK_FONTS),
            file_storage="local",
            file_storage_dir=str(tmp_path / "files"),
        )
    )
    assert isinstance(app.files, LocalFileStorage)
    pdf = await app.certificate_renderer.render(
        None, replace(sample_fields(), holder_name="山田花子")
    )
    await app.files.put("certificates/one.pdf", pdf, content_type="application/pdf")
    stored = (tmp_path / "files" / "certificates" / "one.pdf").read_bytes()
    assert "山田花子" in pypdf.PdfReader(io.BytesIO(stored)).pages[0].extract_text()
    assert isinstance(build_container(make_settings()).files, MemoryFileStorage)


async def test_the_container_wires_s3_storage_and_closes_it(s3_server: S3Server) -> None:
    bucket = s3_server.new_bucket()
    app = build_container(
        make_settings(
            file_storage="s3",
            s3_bucket=bucket,
            s3_endpoint_url=s3_server.endpoint_url,
            s3_region=REGION,
            s3_access_key_id=ACCESS_KEY_ID,
            s3_secret_access_key=SECRET_ACCESS_KEY,
            s3_prefix="cpd",
        )
    )
    assert isinstance(app.files, S3FileStorage)
    await app.startup(run_relay=False)
    await app.files.put("certificates/one.pdf", b"%PDF-1.7", content_type="application/pdf")
    stored = s3_server.client().get_object(Bucket=bucket, Key="cpd/certificates/one.pdf")
    assert stored["Body"].read() == b"%PDF-1.7"
    assert stored["ContentType"] == "application/pdf"
    assert app.files.is_open
    assert app.health_probes["S3FileStorage"] == app.files.ping  # /ready asks the bucket too
    await app.files.ping()
    await app.shutdown()
    assert not app.files.is_open  # closed with the container


async def test_readiness_says_when_the_bucket_is_gone(s3_server: S3Server) -> None:
    app = build_container(
        make_settings(
            file_storage="s3",
            s3_bucket="no-such-bucket-here",
            s3_endpoint_url=s3_server.endpoint_url,
            s3_region=REGION,
            s3_access_key_id=ACCESS_KEY_ID,
            s3_secret_access_key=SECRET_ACCESS_KEY,
        )
    )
    with TestClient(create_app(app)) as client:
        ready = client.get("/ready")
    assert ready.status_code == 503
    assert ready.json()["status"] == "unavailable: S3FileStorage"
