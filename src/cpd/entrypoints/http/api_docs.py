"""The OpenAPI document and its two pages (Scalar at ``/schema``, Swagger UI at
``/schema/swagger``), with their scripts served from this package under ``/schema/assets/`` so
that the pages work offline and their Content-Security-Policy can allow this origin only.

The pinned versions, checksums and licences of the vendored files are in
``docs_assets/README.md``. Neither page runs inline script: Scalar reads its configuration from
a data attribute, Swagger UI starts from ``swagger-init.js``.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

from litestar import Request, Router
from litestar.datastructures import CacheControlHeader
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import ScalarRenderPlugin, SwaggerRenderPlugin, YamlRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme
from litestar.static_files import create_static_files_router

from cpd.entrypoints.http.security_headers import DOCS_PATH

ASSETS_PATH = f"{DOCS_PATH}/assets"
ASSETS_DIR = Path(__file__).with_name("docs_assets")
_FAVICON = '<link rel="icon" href="data:,">'  # none; Litestar's default is fetched from a CDN
_ASSETS_CACHE = CacheControlHeader(public=True, max_age=86_400)


class LocalScalar(ScalarRenderPlugin):
    def __init__(self) -> None:
        super().__init__(js_url=f"{ASSETS_PATH}/scalar/standalone.js", favicon=_FAVICON)

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        url = self.get_openapi_json_route(request)
        # Scalar fetches its default fonts from fonts.scalar.com unless told not to.
        configuration = json.dumps({"url": url, "withDefaultFonts": False})
        return _page(
            openapi_schema["info"]["title"],
            head=self.favicon,
            body=(
                f'<script id="api-reference" data-url="{html.escape(url)}" '
                f'data-configuration="{html.escape(configuration)}"></script>'
                f'<script src="{self.js_url}"></script>'
            ),
        )


class LocalSwagger(SwaggerRenderPlugin):
    def __init__(self) -> None:
        super().__init__(
            path="/swagger",
            js_url=f"{ASSETS_PATH}/swagger-ui/swagger-ui-bundle.js",
            css_url=f"{ASSETS_PATH}/swagger-ui/swagger-ui.css",
            standalone_preset_js_url=f"{ASSETS_PATH}/swagger-ui/swagger-ui-standalone-preset.js",
            favicon=_FAVICON,
        )

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        url = self.get_openapi_json_route(request)
        return _page(
            openapi_schema["info"]["title"],
            head=f'{self.favicon}<link rel="stylesheet" href="{self.css_url}">',
            body=(
                f'<div id="swagger-ui" data-url="{html.escape(url)}"></div>'
                f'<script src="{self.js_url}"></script>'
                f'<script src="{self.standalone_preset_js_url}"></script>'
                f'<script src="{ASSETS_PATH}/swagger-init.js"></script>'
            ),
        )


def _page(title: str, *, head: str, body: str) -> bytes:
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title>{head}</head><body>{body}</body></html>"
    ).encode()


def openapi_config() -> OpenAPIConfig:
    return OpenAPIConfig(
        title="CPD Events API",
        version="1.0.0",
        description="Events, registrations, payments, attendance and verifiable certificates.",
        path=DOCS_PATH,
        render_plugins=[
            LocalScalar(),
            LocalSwagger(),
            YamlRenderPlugin(),  # /schema/openapi.yaml; the JSON one Litestar always adds
        ],
        components=Components(
            security_schemes={
                "BearerToken": SecurityScheme(type="http", scheme="bearer", bearer_format="JWT")
            }
        ),
    )


def docs_assets_router() -> Router:
    return create_static_files_router(
        ASSETS_PATH,
        directories=[ASSETS_DIR],
        name="docs-assets",
        cache_control=_ASSETS_CACHE,
        include_in_schema=False,
    )
