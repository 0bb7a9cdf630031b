"""Product images: downloaded by bridge from the store's URL, checked against TikTok's rules,
uploaded once (cached in ``connection.state`` by source URL and by content hash)."""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass
from urllib.parse import urlsplit

from bridge.errors import Rejected, Transient
from bridge_tiktokshop.client import TikTokClient

MAX_BYTES = 10 * 1024 * 1024
MAIN_MIN_PX, MAIN_MAX_PX = 300, 4000
MAX_MAIN_IMAGES = 9
FORMATS = {"jpeg": "image/jpeg", "png": "image/png", "webp": "image/webp", "bmp": "image/bmp",
           "heic": "image/heic"}


@dataclass
class Uploaded:
    uri: str
    url: str


def sniff(data: bytes) -> tuple[str | None, int | None, int | None]:
    """(format, width, height) from an image's bytes; unknown dimensions are None."""
    if data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) >= 24:
        w, h = struct.unpack(">II", data[16:24])
        return "png", w, h
    if data.startswith(b"\xff\xd8"):
        i = 2
        while i + 9 < len(data):
            if data[i] != 0xFF:
                i += 1
                continue
            marker = data[i + 1]
            length = struct.unpack(">H", data[i + 2:i + 4])[0]
            if marker in (0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF):
                h, w = struct.unpack(">HH", data[i + 5:i + 9])
                return "jpeg", w, h
            i += 2 + length
        return "jpeg", None, None
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        chunk = data[12:16]
        if chunk == b"VP8X" and len(data) >= 30:
            w = int.from_bytes(data[24:27], "little") + 1
            h = int.from_bytes(data[27:30], "little") + 1
            return "webp", w, h
        if chunk == b"VP8 " and len(data) >= 30:
            w, h = struct.unpack("<HH", data[26:30])
            return "webp", w & 0x3FFF, h & 0x3FFF
        return "webp", None, None
    if data[:2] == b"BM" and len(data) >= 26:
        w, h = struct.unpack("<ii", data[18:26])
        return "bmp", w, abs(h)
    if data[4:12] in (b"ftypheic", b"ftypheix", b"ftypmif1"):
        return "heic", None, None
    return None, None, None


def check(url: str, data: bytes, main: bool = True) -> tuple[str, list[str]]:
    """TikTok's image rules; returns (format, warnings) or raises a clear Rejected."""
    fmt, w, h = sniff(data)
    if fmt is None:
        raise Rejected(f"image {url} is not a JPG, PNG, WEBP, HEIC or BMP file: TikTok Shop refuses it",
                       code="IMAGE_FORMAT", item=url)
    if len(data) > MAX_BYTES:
        raise Rejected(f"image {url} is {len(data) / 1048576:.1f} MB: TikTok Shop takes at most 10 MB",
                       code="IMAGE_TOO_LARGE", item=url)
    warnings: list[str] = []
    if w and h:
        low, high = (MAIN_MIN_PX, MAIN_MAX_PX) if main else (100, 20000)
        if min(w, h) < low or max(w, h) > high:
            raise Rejected(f"image {url} is {w}x{h} px: TikTok Shop needs {low}-{high} px on each "
                           "side; use a larger/smaller image in the store", code="IMAGE_SIZE", item=url)
        if not (3 / 4 <= w / h <= 4 / 3):
            warnings.append(f"image {url} ({w}x{h}) is outside 3:4-4:3: TikTok Shop will pad it to 1:1")
    return fmt, warnings


def download(client: TikTokClient, url: str) -> bytes:
    parts = urlsplit(url)
    origin = f"{parts.scheme}://{parts.netloc}"
    http = client.connection.http_client(origin, name="images")
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    response = http.get(path, rate_key="images")
    if response.status_code >= 500:
        raise Transient(f"cannot download image {url}: HTTP {response.status_code}")
    if response.status_code != 200:
        raise Rejected(f"cannot download image {url}: HTTP {response.status_code}; fix the image in "
                       "the store", code="IMAGE_DOWNLOAD", item=url)
    return response.content


def upload(client: TikTokClient, url: str, use_case: str = "MAIN_IMAGE",
           fetched: dict[str, bytes] | None = None) -> tuple[Uploaded, list[str]]:
    """The TikTok image for a source URL: from the cache, or downloaded, checked and uploaded.

    ``fetched`` holds the bytes already downloaded while building one listing (the same URL as
    a main and a SKU image is downloaded once).
    """
    state = client.connection.state
    by_url = f"image:url:{use_case}:{url}"
    cached = state.get(by_url)
    if cached:
        return Uploaded(**cached), []
    data = fetched.get(url) if fetched is not None else None
    if data is None:
        data = download(client, url)
        if fetched is not None:
            fetched[url] = data
    fmt, warnings = check(url, data, main=use_case == "MAIN_IMAGE")
    by_hash = f"image:sha256:{use_case}:{hashlib.sha256(data).hexdigest()}"
    cached = state.get(by_hash)
    if not cached:
        name = urlsplit(url).path.rsplit("/", 1)[-1] or f"image.{fmt}"
        answer = client.call("POST", "/product/202309/images/upload", shop=False,
                             files={"data": (name, data, FORMATS[fmt])}, data={"use_case": use_case})
        cached = {"uri": answer["uri"], "url": answer.get("url") or ""}
        state[by_hash] = cached
    state[by_url] = cached
    return Uploaded(**cached), warnings
