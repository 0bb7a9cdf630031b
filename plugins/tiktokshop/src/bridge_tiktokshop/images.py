"""Product images: downloaded by bridge from the store's URL, checked against TikTok's rules,
uploaded once (cached in ``connection.state`` by source URL and by content hash; the threads of
one process upload one picture one at a time, so that a second waits for the first's answer)."""

from __future__ import annotations

import hashlib
import struct
import time
import zlib
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

from bridge.errors import Rejected, Transient
from bridge.http import MAX_INLINE_WAIT, HttpClient, retry_after_seconds
from bridge.outbound import OutboundRefused
from bridge_tiktokshop.client import TikTokClient

MAX_BYTES = 10 * 1024 * 1024
#: Longest an image download may take (a host dribbling bytes cannot hold a worker).
DOWNLOAD_SECONDS = 60.0
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


def _too_large(url: str) -> Rejected:
    return Rejected(f"image {url} is larger than 10 MB: TikTok Shop takes at most 10 MB; use a smaller "
                    "image in the store", code="IMAGE_TOO_LARGE", item=url)


def _decoder(url: str, encoding: str) -> Any:
    encoding = encoding.strip().lower()
    if encoding in ("", "identity"):
        return None
    if encoding in ("gzip", "x-gzip"):
        return zlib.decompressobj(16 + zlib.MAX_WBITS)
    if encoding == "deflate":
        return zlib.decompressobj()
    raise Rejected(f"image {url} came with Content-Encoding {encoding[:20]}, which bridge does not "
                   "read: serve it plain or gzip-encoded", code="IMAGE_DOWNLOAD", item=url)


class _Busy(Exception):
    """One download attempt met a failure worth another try (the host's 5xx, 408 or 429, a
    reset, a timeout, a body cut short); ``wait``: seconds before the next attempt."""

    def __init__(self, message: str, wait: float) -> None:
        super().__init__(message)
        self.message = message
        self.wait = wait


def download(client: TikTokClient, url: str) -> bytes:
    """The image's bytes, read as they stream: never more than :data:`MAX_BYTES` (after
    gzip/deflate decoding, which is done here in bounded steps) nor longer than
    :data:`DOWNLOAD_SECONDS` in all. An address the outbound policy refuses fails this image only.
    A failure of the image's host is tried again as the HTTP layer retries a read (its
    :class:`~bridge.http.RetryPolicy`: attempts, backoff with jitter, the ``Retry-After`` of a
    429 or 503), within the same :data:`DOWNLOAD_SECONDS`.

    :raises Rejected: refused address, HTTP 4xx, too large, unreadable encoding.
    :raises Transient: the image's host still failed after the retries (5xx, network, too slow).
    """
    parts = urlsplit(url)
    try:
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise OutboundRefused(f"'{parts.scheme}:' is not a web address")
        origin = f"{parts.scheme}://{parts.netloc}"
        http = client.connection.http_client(origin, name="images")
    except (OutboundRefused, ValueError) as exc:
        raise Rejected(f"image {url} cannot be downloaded: {exc}; use an image on a public "
                       "https address", code="IMAGE_ADDRESS", item=url) from None
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    deadline = time.monotonic() + DOWNLOAD_SECONDS
    policy, attempt, waited = http.retry, 0, 0.0
    while True:
        attempt += 1
        if http.pacer is not None:
            http.pacer.before("images")
        try:
            return _fetch(http, url, path or "/", deadline, backoff=policy.backoff(attempt))
        except _Busy as busy:
            if (attempt >= policy.attempts or busy.wait > MAX_INLINE_WAIT or waited + busy.wait > policy.budget
                    or time.monotonic() + busy.wait > deadline):
                raise Transient(busy.message) from None
            waited += http.pause_before_retry(busy.wait)


def _fetch(http: HttpClient, url: str, path: str, deadline: float, *, backoff: float) -> bytes:
    """One attempt of :func:`download`; :class:`_Busy` when another may succeed."""
    try:
        with http.client.stream("GET", path, headers={"Accept-Encoding": "gzip, deflate"}) as response:
            if response.status_code >= 500 or response.status_code in (408, 429):
                # the image host is busy or failing: tried again, never held for it
                raise _Busy(f"cannot download image {url}: HTTP {response.status_code}",
                            retry_after_seconds(response, default=backoff))
            if response.status_code != 200:
                raise Rejected(f"cannot download image {url}: HTTP {response.status_code}; fix the image "
                               "in the store", code="IMAGE_DOWNLOAD", item=url)
            declared = response.headers.get("content-length", "")
            if declared.isascii() and declared.isdigit() and int(declared) > MAX_BYTES:
                raise _too_large(url)
            decoder = _decoder(url, response.headers.get("content-encoding", ""))
            out, received = bytearray(), 0
            for raw in response.iter_raw(65536):
                received += len(raw)
                if received > MAX_BYTES:
                    raise _too_large(url)
                if time.monotonic() > deadline:
                    raise Transient(f"image {url} took longer than {DOWNLOAD_SECONDS:.0f} s to download")
                if decoder is None:
                    out += raw
                else:
                    data = raw
                    while data:  # at most the room left per step: a bomb never inflates whole
                        out += decoder.decompress(data, MAX_BYTES + 1 - len(out))
                        if len(out) > MAX_BYTES:
                            raise _too_large(url)
                        data = decoder.unconsumed_tail
                if len(out) > MAX_BYTES:
                    raise _too_large(url)
            if decoder is not None:
                out += decoder.flush()
                if len(out) > MAX_BYTES:
                    raise _too_large(url)
    except httpx.TransportError as exc:
        raise _Busy(f"cannot download image {url}: {type(exc).__name__}", backoff) from None
    except zlib.error:
        raise Rejected(f"image {url} is not validly gzip/deflate-encoded: fix the image's host",
                       code="IMAGE_DOWNLOAD", item=url) from None
    return bytes(out)


def url_key(url: str, use_case: str = "MAIN_IMAGE") -> str:
    """The state key of a source URL's upload."""
    return f"image:url:{use_case}:{url}"


def looked_up(state: Any, refs: list[tuple[str, str]]) -> dict[str, Any] | None:
    """The cache entries of these (url, use case) pairs read at once (None for those not
    kept), for :func:`upload`'s ``known``; None when ``state`` cannot read several at once."""
    get_many = getattr(state, "get_many", None)
    if get_many is None or not refs:
        return None
    keys = [url_key(url, use_case) for url, use_case in refs]
    found = get_many(keys)
    return {k: found.get(k) for k in keys}


def upload(client: TikTokClient, url: str, use_case: str = "MAIN_IMAGE",
           fetched: dict[str, bytes] | None = None,
           pending: dict[str, Any] | None = None,
           known: dict[str, Any] | None = None) -> tuple[Uploaded, list[str]]:
    """The TikTok image for a source URL: from the cache, or downloaded, checked and uploaded.

    ``fetched`` holds the bytes already downloaded while building one listing (the same URL as
    a main and a SKU image is downloaded once). ``pending`` collects the URL's cache entry for
    the caller to write with the listing's others in one write (the upload's own entry, by
    content hash, is written at once: it is what keeps an image from being uploaded twice).
    ``known``: the listing's URL entries as just read together (:func:`looked_up`); a URL in it
    is not read again.
    """
    state = client.connection.state
    by_url = url_key(url, use_case)
    cached = pending.get(by_url) if pending is not None else None
    if not cached:
        cached = known[by_url] if known is not None and by_url in known else state.get(by_url)
    if cached:
        return Uploaded(**cached), []
    data = fetched.get(url) if fetched is not None else None
    if data is None:
        data = download(client, url)
        if fetched is not None:
            fetched[url] = data
    fmt, warnings = check(url, data, main=use_case == "MAIN_IMAGE")
    by_hash = f"image:sha256:{use_case}:{hashlib.sha256(data).hexdigest()}"
    # one upload per image at a time in this process: a thread listing another product with
    # the same picture waits for it and takes its answer (without this, the tasks of a shop's
    # first sync uploaded a picture several products share once each)
    with client.connection.single_flight(by_hash):
        cached = state.get(by_hash)
        if not cached:
            name = urlsplit(url).path.rsplit("/", 1)[-1] or f"image.{fmt}"
            answer = client.call("POST", "/product/202309/images/upload", shop=False,
                                 files={"data": (name, data, FORMATS[fmt])}, data={"use_case": use_case})
            cached = {"uri": answer["uri"], "url": answer.get("url") or ""}
            state[by_hash] = cached
    if pending is not None:
        pending[by_url] = cached
    else:
        state[by_url] = cached
    return Uploaded(**cached), warnings
