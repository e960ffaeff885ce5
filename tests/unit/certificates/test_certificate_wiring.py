"""Certificate rendering and file storage settings (their wiring with Typst and S3 is in
tests/integration/test_certificate_wiring.py)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from cpd.settings import Settings, SettingsError

CJK_FONTS = Path(__file__).parents[2] / "fixtures" / "fonts"


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
