"""A limit the platform counts in a sliding window (``RateLimit.window``): paced at the full rate,
and never one request too many in a window where the platform receives them, however late the
requests arrive or their answers come back."""

from __future__ import annotations

import random
import threading
import time

import httpx
import pytest

from bridge import http, pacing
from bridge.pacing import BucketPacer, RateLimit


def most_in_window(arrivals: list[float], seconds: float) -> int:
    """The most arrivals within any ``seconds`` (a platform's sliding window: an arrival leaves
    it ``seconds`` later)."""
    times, most, start = sorted(arrivals), 0, 0
    for end, t in enumerate(times):
        while t - times[start] >= seconds:
            start += 1
        most = max(most, end - start + 1)
    return most


def drive(pacer: BucketPacer, *, requests: int, workers: int, delay: tuple[float, float],
          answer: tuple[float, float]) -> list[float]:
    """``workers`` threads send ``requests`` through ``pacer``; each request reaches the platform
    ``delay`` seconds (uniform between the two) after the pacer lets it go and its answer comes
    back ``answer`` seconds later. Returns the arrival times."""
    arrivals: list[float] = []
    lock = threading.Lock()
    left = iter(range(requests))
    rnd = random.Random(7)

    def work() -> None:
        while True:
            with lock:
                if next(left, None) is None:
                    return
                d, a = rnd.uniform(*delay), rnd.uniform(*answer)
            pacer.before("k")
            time.sleep(d)
            with lock:
                arrivals.append(time.monotonic())
            time.sleep(a)
            pacer.after("k", httpx.Response(200))

    threads = [threading.Thread(target=work) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return arrivals


def test_late_arrivals_never_put_one_too_many_into_a_window() -> None:
    """Requests reach the platform up to 150 ms after their slot, in any order: a pacer that
    only keeps under the rate (even at 90 %) puts more than the limit into some window; one
    that counts each request until a window after its answer does not."""
    limit = RateLimit(rate=100, burst=1, window=0.5)  # 50 per half second
    arrivals = drive(BucketPacer({"default": limit}), requests=160, workers=24,
                     delay=(0.0, 0.15), answer=(0.0, 0.02))
    assert len(arrivals) == 160
    assert most_in_window(arrivals, 0.5) <= 50


def test_a_windowed_limit_is_paced_at_nearly_the_full_rate() -> None:
    """With quick answers the window costs about one round trip per window, not a fixed share
    of the rate (the old pacing kept 90 % of it)."""
    limit = RateLimit(rate=100, burst=1, window=1.0)
    arrivals = drive(BucketPacer({"default": limit}), requests=300, workers=8,
                     delay=(0.0, 0.002), answer=(0.002, 0.004))
    arrivals.sort()
    rate = (len(arrivals) - 1) / (arrivals[-1] - arrivals[0])
    assert most_in_window(arrivals, 1.0) <= 100
    assert rate >= 94, f"{rate:.1f} requests/s against a limit of 100"


def test_a_request_without_an_answer_gives_its_place_back(monkeypatch: pytest.MonkeyPatch) -> None:
    """A request that fails before any answer (a reset) still leaves the window: the next one
    waits for the window, not for an answer that never comes."""
    pacer = BucketPacer({"default": RateLimit(rate=20, burst=1, window=0.1)})  # 2 per 100 ms
    calls = iter([httpx.ConnectError("refused"), httpx.ConnectError("refused")])

    def handler(request: httpx.Request) -> httpx.Response:
        exc = next(calls, None)
        if exc is not None:
            raise exc
        return httpx.Response(200, json={})

    monkeypatch.setattr(http.time, "sleep", lambda s: None)  # no backoff between the attempts
    c = http.make_client("https://api.example.com", platform="test", pacer=pacer,
                         transport=httpx.MockTransport(handler))
    started = time.monotonic()
    # two resets, then the answer: the third attempt waits for the window (a place each reset
    # kept would leave none: it would wait the longest inline wait and give up)
    assert c.get("/x").status_code == 200
    assert time.monotonic() - started < 1.0
    window = pacer.buckets["default"].window
    assert window is not None and window.in_flight == 0


def test_a_shared_pacer_keeps_headroom_where_it_cannot_see_the_answers() -> None:
    limit = RateLimit(rate=50, burst=1, window=1.0)
    assert limit.blind_rate == pytest.approx(50 * pacing.BLIND_SHARE)
    assert RateLimit(rate=50).blind_rate == 50
