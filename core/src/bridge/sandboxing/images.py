"""A loopback server of generated product images (valid PNGs), for listing tests."""

from __future__ import annotations

import functools
import struct
import zlib

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bridge.sandboxing.server import SandboxServer


@functools.lru_cache(maxsize=256)
def make_png(width: int = 800, height: int = 800, rgb: tuple[int, int, int] = (200, 80, 40)) -> bytes:
    """A solid-colour RGB PNG of the given size."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    row = b"\x00" + bytes(rgb) * width
    raw = row * height
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")


class ImageServer:
    """Serves ``/<name>.png`` (800x800) and ``/<w>x<h>/<name>.png`` on a loopback port."""

    def __init__(self) -> None:
        self.requests = 0

        async def image(request: Request) -> Response:
            self.requests += 1
            return image_response(request.path_params["name"], int(request.path_params.get("w", 800)),
                                  int(request.path_params.get("h", 800)))

        app = Starlette(routes=[Route("/{w:int}x{h:int}/{name}.png", image), Route("/{name}.png", image)])
        self.server = SandboxServer(app)

    def url(self, name: str, width: int | None = None, height: int | None = None) -> str:
        stem = name.removesuffix(".png")
        if width and height:
            return f"{self.server.url}/{width}x{height}/{stem}.png"
        return f"{self.server.url}/{stem}.png"

    def __enter__(self) -> ImageServer:
        self.server.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.stop()


def image_response(name: str, width: int = 800, height: int = 800) -> Response:
    """A generated PNG for a sandbox's own image route (the colour follows the name, so two
    images differ and the same one is always the same bytes)."""
    seed = sum(name.encode()) % 200
    return Response(make_png(width, height, (seed, 120, 200 - seed)), media_type="image/png",
                    headers={"Cache-Control": "public, max-age=31536000"})
