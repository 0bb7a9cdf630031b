"""Image downloads: the size limit holds while streaming (gzip included, never inflated in
memory first), and an address the outbound policy refuses fails that image's product only."""

from __future__ import annotations

import gzip
import tracemalloc
from collections.abc import Iterator

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from bridge.errors import Rejected
from bridge.sandboxing import SandboxServer
from bridge.sandboxing.images import make_png
from bridge_tiktokshop import images
from bridge_tiktokshop.client import TikTokClient

BOMB = gzip.compress(b"\0" * (200 * 1024 * 1024), compresslevel=9)  # ~200 KB sent, 200 MB inside


@pytest.fixture(scope="module")
def hostile() -> Iterator[str]:
    async def bomb(request: Request) -> Response:
        return Response(BOMB, media_type="image/png", headers={"Content-Encoding": "gzip"})

    async def endless(request: Request) -> StreamingResponse:
        async def body() -> Iterator[bytes]:  # type: ignore[misc]
            chunk = b"\x89PNG" + b"\0" * 65532
            for _ in range(400):  # 26 MB, no Content-Length
                yield chunk
        return StreamingResponse(body(), media_type="image/png")

    async def small_gzip(request: Request) -> Response:
        return Response(gzip.compress(make_png(400, 400)), media_type="image/png",
                        headers={"Content-Encoding": "gzip"})

    app = Starlette(routes=[Route("/bomb.png", bomb), Route("/endless.png", endless),
                            Route("/ok.png", small_gzip)])
    with SandboxServer(app) as server:
        yield server.url


def test_a_gzip_bomb_is_refused_while_streaming(conn, hostile) -> None:
    tracemalloc.start()
    try:
        with pytest.raises(Rejected) as err:
            images.download(TikTokClient(conn), f"{hostile}/bomb.png")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert err.value.code == "IMAGE_TOO_LARGE" and "10 MB" in err.value.message
    assert peak < 40 * 1024 * 1024, f"peak {peak / 1048576:.0f} MB"


def test_a_body_without_length_is_cut_at_the_limit(conn, hostile) -> None:
    with pytest.raises(Rejected) as err:
        images.download(TikTokClient(conn), f"{hostile}/endless.png")
    assert err.value.code == "IMAGE_TOO_LARGE"


def test_a_gzip_encoded_image_is_read(conn, hostile) -> None:
    assert images.download(TikTokClient(conn), f"{hostile}/ok.png") == make_png(400, 400)


@pytest.mark.parametrize("url", ["https://10.0.0.5/a.png", "http://169.254.169.254/latest/x.png",
                                 "file:///etc/passwd", "ftp://shop.example.com/a.png", "https://[::ffff:10.0.0.1]/a.png"])
def test_a_refused_address_fails_that_image_with_the_reason(conn, url) -> None:
    with pytest.raises(Rejected) as err:
        images.download(TikTokClient(conn), url)
    assert err.value.code == "IMAGE_ADDRESS" and err.value.item == url
    assert "image" in err.value.message
