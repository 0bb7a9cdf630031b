"""Image downloads: the size limit holds while streaming (gzip included, never inflated in
memory first), an address the outbound policy refuses fails that image's product only, and a
failure of the image's host (5xx, 429, a reset, a body cut short) is retried as the HTTP layer
retries a read, bounded in attempts."""

from __future__ import annotations

import gzip
import tracemalloc
from collections.abc import Iterator

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from bridge.errors import Rejected, Transient
from bridge.sandboxing import Fault, SandboxServer
from bridge.sandboxing.chaos import ChaosPlan, chaotic
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


@pytest.fixture()
def flaky() -> Iterator[tuple[str, ChaosPlan]]:
    """An image host whose faults a test queues (no random ones: rate 0)."""
    async def image(request: Request) -> Response:
        return Response(make_png(400, 400), media_type="image/png")

    plan = ChaosPlan(0.0)
    with SandboxServer(chaotic(Starlette(routes=[Route("/a.png", image)]), plan)) as server:
        yield server.url, plan


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


def test_a_failing_image_host_is_tried_again_within_the_download(conn, flaky) -> None:
    url, plan = flaky
    for fault in (Fault(status=429, retry_after=0.1), Fault(reset=True), Fault(truncate=True)):
        plan.add(fault)  # three failed attempts, the fourth (the HTTP layer's last) succeeds
    assert images.download(TikTokClient(conn), f"{url}/a.png") == make_png(400, 400)
    assert plan.pending() == []
    assert conn.http_client(url, name="images").retries == 3


def test_an_image_host_failing_every_attempt_fails_that_image_after_the_retries(conn, flaky) -> None:
    url, plan = flaky
    fault = plan.add(Fault(status=503, retry_after=0.1, count=10))
    with pytest.raises(Transient, match="HTTP 503"):
        images.download(TikTokClient(conn), f"{url}/a.png")
    attempts = conn.http_client(url, name="images").retry.attempts
    assert fault.hits == attempts  # bounded: no more than the HTTP layer's attempts
