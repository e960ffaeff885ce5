"""Certificate rendering and file storage as the composition root wires them from settings:
the real Typst renderer and an S3 server (moved from the unit suite, which uses fakes)."""

from __future__ import annotations

import io
from dataclasses import replace
from pathlib import Path

import pypdf
from litestar.testing import TestClient
from tests.support.s3_server import ACCESS_KEY_ID, REGION, SECRET_ACCESS_KEY, S3Server
from tests.support.settings import make_settings
from tests.unit.certificates.test_certificate_wiring import CJK_FONTS

from cpd.adapters.storage.files import LocalFileStorage, MemoryFileStorage
from cpd.adapters.storage.s3 import S3FileStorage
from cpd.bootstrap import build_container
from cpd.domain.certificates import sample_fields
from cpd.entrypoints.http.app import create_app


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
