"""The ceiling: a minimal Litestar JSON endpoint, served exactly like the real app."""

from litestar import Litestar, get


@get("/hello")
async def hello() -> dict[str, str]:
    return {"hello": "world"}


app = Litestar([hello], openapi_config=None)
