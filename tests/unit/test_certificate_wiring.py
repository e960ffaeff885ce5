"""Certificate rendering and file storage as the composition root wires them from settings."""

from __future__ import annotations

import io
import os
from dataclasses import replace
from pathlib import Path

import pypdf
import pytest

from cpd.adapters.file_storage import LocalFileStorage, MemoryFileStorage
from cpd.bootstrap import build_container
from cpd.domain.certificates import sample_fields
from cpd.settings import Settings, SettingsError
from tests.conftest import make_settings

CJK_FONTS = Path(__file__).parent.parent / "fixtures" / "fonts"


def test_settings_read_the_certificate_and_storage_variables(tmp_path: Path) -> None:
    settings = Settings.from_env(
        {
            "CPD_FILE_STORAGE": "local",
            "CPD_FILE_STORAGE_DIR": str(tmp_path / "files"),
            "CPD_CERTIFICATE_FONT_DIRS": f"{CJK_FONTS}{os.pathsep}{tmp_path}",
            "CPD_CERTIFICATE_RENDER_THREADS": "3",
        }
    )
    assert settings.certificate_font_paths == [str(CJK_FONTS), str(tmp_path)]
    assert settings.certificate_render_threads == 3
    defaults = Settings()
    assert (defaults.file_storage, defaults.file_storage_dir) == ("local", "./var/files")
    assert defaults.certificate_font_paths == []


@pytest.mark.parametrize(
    ("env", "says"),
    [
        ({"CPD_CERTIFICATE_FONT_DIRS": "/no/such/folder"}, "CPD_CERTIFICATE_FONT_DIRS"),
        ({"CPD_CERTIFICATE_RENDER_THREADS": "0"}, "CPD_CERTIFICATE_RENDER_THREADS"),
        ({"CPD_FILE_STORAGE": "s3"}, "CPD_FILE_STORAGE"),  # not implemented: refused, not faked
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
