#!/usr/bin/env python3
"""Initial sync of a seeded catalog to one TikTok shop through the sandboxes; print the figures.

    .venv/bin/python benchmarks/initial_sync.py --variants 10000 --latency-ms 20
    .venv/bin/python benchmarks/initial_sync.py --variants 100000 --latency-ms 0 --rate-limit 0

The eCommerce sandbox (``--platform``, default Shopify) and the TikTok Shop sandbox each run in
a process of their own, adding ``--latency-ms`` to every request; the TikTok sandbox enforces
``--rate-limit`` requests per second per API per shop (TikTok's documented 50; 0: off). bridge
runs in a freshly started process (spawned, not forked: it holds none of the sandboxes' seeded
state; its own database in a temporary directory, the real plugins), so its peak memory (resident
set, sampled every 20 ms; ``--tracemalloc`` adds the Python heap's peak at about three times the
wall time) and its CPU time (user + system, all its threads) are its own. Phases: read the catalog once (the eCommerce
minimum), the initial sync (products flow, then inventory flow), then a no-op re-sync.
``--profile FILE`` writes a cProfile of the products flow (every thread of the bridge process,
timed by each thread's CPU clock unless ``--profile-clock wall``) and prints its top functions.

Printed: wall time of the initial sync, CPU seconds of the bridge process per created listing, and
the wall time's ratio to the floor the rate limit sets (the
busiest TikTok API's requests / rate), requests per platform against the minimum, rate-limit
errors, peak memory, and the no-op re-sync's requests.
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import multiprocessing
import os
import pstats
import socket
import sys
import tempfile
import threading
import time
import tracemalloc
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # tests.e2e.harness

from bridge import hookimpl  # noqa: E402
from bridge.plugins import PluginManager  # noqa: E402
from bridge.sandboxing import SandboxServer, free_port  # noqa: E402

CHANNEL = "tiktokshop"


class _Images:
    """The image-server URLs LocalImages needs, without the server object (it lives in the parent)."""

    def __init__(self, base: str) -> None:
        self.base = base

    def url(self, name: str) -> str:
        return f"{self.base}/{name}.png"


class LocalImages:
    """A ``transform_listing`` plugin: every image of a listing is served by the parent's image
    server, so the measured process fetches images from one place whatever the platform."""

    def __init__(self, server: Any) -> None:
        self.server = server

    def _url(self, url: str) -> str:
        return self.server.url(hashlib.sha1(url.encode()).hexdigest()[:16])

    @hookimpl
    def transform_listing(self, listing: Any, product: Any, store: Any) -> Any:
        return listing.model_copy(update={
            "images": [i.model_copy(update={"url": self._url(i.url)}) for i in listing.images],
            "skus": [s.model_copy(update={"image_url": self._url(s.image_url) if s.image_url else None})
                     for s in listing.skus],
        })


class _PeakRss:
    """Samples this process's resident set size every 20 ms until :meth:`stop`."""

    def __init__(self) -> None:
        self.base = self.peak = _rss()
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.done.wait(0.02):
            self.peak = max(self.peak, _rss())

    def stop(self) -> tuple[int, int]:
        self.done.set()
        self.thread.join()
        return self.base, max(self.peak, _rss())


class _Profiles:
    """cProfile of every thread of this process (the flow's and its appliers' workers), merged:
    one ``cProfile.Profile`` per thread, each enabled as the thread starts. ``cpu``: timed by
    the thread's CPU clock (where the CPU goes; waits on locks, sockets and sleeps count
    nothing), else by the wall clock."""

    def __init__(self, cpu: bool) -> None:
        self.timer = time.thread_time if cpu else time.perf_counter
        self.profiles: list[cProfile.Profile] = []
        self.lock = threading.Lock()

    def _thread_started(self, *_: Any) -> None:
        profile = cProfile.Profile(self.timer)
        with self.lock:
            self.profiles.append(profile)
        profile.enable()  # replaces this hook for the rest of the thread

    def start(self) -> None:
        threading.setprofile(self._thread_started)
        self._thread_started()

    def stop(self, path: str, top: int) -> None:
        """Write the merged profile to ``path``; print the ``top`` functions by own time and by
        cumulative time (stderr)."""
        threading.setprofile(None)  # type: ignore[arg-type]
        with self.lock:
            profiles = list(self.profiles)
        for p in profiles:
            p.disable()  # only stops the calling thread's; the others are done with the flow
        stats = pstats.Stats(profiles[0], stream=sys.stderr)
        for p in profiles[1:]:
            stats.add(p)
        stats.dump_stats(path)
        print(f"profile of {len(profiles)} threads written to {path}", file=sys.stderr)
        if top:
            stats.sort_stats("tottime").print_stats(top)
            stats.sort_stats("cumulative").print_stats(top)


class _Sampler:
    """A sampling profiler with little overhead (cProfile's grows with the number of calls, so
    call-heavy libraries look costlier than they are): every ``interval`` seconds, the stack of
    each other thread the kernel has running or runnable (state R in /proc: not sleeping on a
    lock, the GIL, a socket or a timer); printed as the share of samples each function is on the
    stack of (inclusive) and on top of (own)."""

    def __init__(self, interval: float = 0.005) -> None:
        self.interval = interval
        self.inclusive: dict[str, int] = {}
        self.own: dict[str, int] = {}
        self.samples = 0
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        self.thread.start()

    def _run(self) -> None:
        me = threading.get_ident()
        while not self.done.wait(self.interval):
            native = {t.ident: t.native_id for t in threading.enumerate()}
            for ident, frame in sys._current_frames().items():
                if ident == me or not _running(native.get(ident)):
                    continue
                self.samples += 1
                names, f = [], frame
                while f is not None:
                    names.append(f"{f.f_code.co_filename.rsplit('site-packages/', 1)[-1].rsplit('/src/', 1)[-1]}"
                                 f":{f.f_code.co_name}")
                    f = f.f_back
                self.own[names[0]] = self.own.get(names[0], 0) + 1
                for name in set(names):
                    self.inclusive[name] = self.inclusive.get(name, 0) + 1

    def stop(self, top: int) -> None:
        self.done.set()
        self.thread.join()
        n = max(1, self.samples)
        print(f"sampled {self.samples} stacks (threads running Python code, every {self.interval * 1000:.0f} ms)",
              file=sys.stderr)
        for title, counts in (("inclusive", self.inclusive), ("own", self.own)):
            print(f"-- {title}", file=sys.stderr)
            for name, c in sorted(counts.items(), key=lambda kv: -kv[1])[:top]:
                print(f"{100 * c / n:5.1f}%  {name}", file=sys.stderr)


def _running(native_id: int | None) -> bool:
    """Whether a thread of this process is running or runnable (its state in /proc is R)."""
    try:
        with open(f"/proc/self/task/{native_id}/stat") as f:
            return f.read().rpartition(")")[2].split()[0] == "R"
    except (OSError, IndexError):
        return False


def _rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _child(args: Any, conn: dict[str, Any], img_url: str, env: dict[str, str], queue: Any, go: Any) -> None:
    os.environ.update(env)
    from bridge import db, stores
    from bridge.errors import RateLimited, Transient
    from bridge.plugins import set_manager
    from bridge.sync import run_flow
    from bridge.tables import Store
    from tests.e2e.harness import map_everything

    db.reset_engines()
    pm = PluginManager()
    set_manager(pm)
    pm.register(LocalImages(_Images(img_url)), name="local-images")
    org_id: int = stores.create_org("Bench").id  # type: ignore[assignment]
    eco_store = stores.connect_store(org_id, args.platform, conn["eco_settings"], conn["eco_creds"], pm)
    shop = stores.connect_store(org_id, CHANNEL, conn["tt_settings"], conn["tt_creds"], pm)
    with db.session() as s:
        row = s.get(Store, shop.id)
        row.options = {"products": {"concurrency": args.concurrency,  # type: ignore[union-attr]
                                    "preflight": args.preflight}}
        s.add(row)
    eco_conn = stores.connection_for(eco_store, pm)
    map_everything(pm, shop, placeholder="Bench")

    def run(flow: str) -> dict[str, int]:
        while True:
            try:
                return run_flow(flow, org_id, pm=pm)[0].counts
            except (RateLimited, Transient) as exc:
                time.sleep(getattr(exc, "retry_after", 1.0) or 1.0)

    def phase(name: str, data: dict[str, Any]) -> None:
        queue.put((name, data))
        go.wait()
        go.clear()

    phase("setup", {})
    from bridge import heap

    heap.freeze_startup()  # as `bridge run` does once started
    variants = 0  # one plain read of the catalog: the eCommerce minimum
    for page in pm.call(args.platform, "list_products", connection=eco_conn, cursor=None):
        variants += sum(len(p.variants) for p in page.products)
    phase("read", {"variants": variants})
    if args.tracemalloc:
        tracemalloc.start()
    rss = _PeakRss()
    profile = _Profiles(args.profile_clock == "cpu") if args.profile else None
    sampler = _Sampler() if args.sample else None
    if sampler:
        sampler.start()
    cpu0 = time.process_time()
    t0 = time.perf_counter()
    if profile:
        profile.start()
    products = run("products")
    if profile:
        profile.stop(args.profile, args.profile_top)
    if sampler:
        sampler.stop(args.profile_top)
    t_products = time.perf_counter() - t0
    cpu_products = time.process_time() - cpu0
    rss_products = max(rss.peak, _rss())
    inventory = run("inventory")
    elapsed = time.perf_counter() - t0
    peak = tracemalloc.get_traced_memory()[1] if args.tracemalloc else 0
    tracemalloc.stop()
    rss_base, rss_peak = rss.stop()
    phase("initial", {"products": products, "inventory": inventory, "wall": elapsed,
                      "wall_products": t_products, "cpu_products": cpu_products, "peak": peak, "rss_base": rss_base, "rss_peak": rss_peak,
                      "rss_products": rss_products})
    t0 = time.perf_counter()
    counts = {f: run(f) for f in ("products", "inventory", "orders", "tracking")}
    queue.put(("noop", {"counts": counts, "wall": time.perf_counter() - t0}))


def _routes(stats: dict[str, Any]) -> str:
    return ", ".join(f"{k}: {v}" for k, v in sorted(stats["by_route"].items(), key=lambda kv: -kv[1]))


def _serve(sb: Any, port: int, conn: Any) -> None:
    """Serve a sandbox in this (forked) process; answer the parent's commands on ``conn``."""
    server = SandboxServer(sb.app, port=port).start()
    while True:
        name, arg = conn.recv()
        if name == "stop":
            server.stop()
            conn.send(None)
            return
        if name == "stats":
            conn.send(sb.stats.snapshot())
        elif name == "reset":
            sb.stats.reset()
            conn.send(None)
        elif name == "latency":
            sb.set_latency(arg)
            conn.send(None)


def _images(port: int) -> None:
    """Serve generated PNG images in this (forked) process."""
    from bridge.testing.images import ImageServer

    images = ImageServer()
    SandboxServer(images.server.server.config.app, port=port).start()
    while True:
        time.sleep(3600)


class Served:
    """A sandbox served by its own process (so the sandboxes and bridge do not share a GIL)."""

    def __init__(self, sb: Any, ctx: Any) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_serve, args=(sb, self.port, child), daemon=True)
        self.proc.start()
        _wait_port(self.port)

    def cmd(self, name: str, arg: Any = None) -> Any:
        self.conn.send((name, arg))
        return self.conn.recv()

    def stop(self) -> None:
        self.cmd("stop")
        self.proc.join(timeout=10)


def _wait_port(port: int) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError(f"nothing listens on port {port}") from None
            time.sleep(0.05)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--platform", default="shopify")
    ap.add_argument("--variants", type=int, default=10_000)
    ap.add_argument("--per-product", type=int, default=4)
    ap.add_argument("--latency-ms", type=float, default=20.0)
    ap.add_argument("--rate-limit", type=float, default=50.0, help="TikTok QPS per API per shop (0: off)")
    ap.add_argument("--concurrency", type=int, default=8, help="shop option products.concurrency")
    ap.add_argument("--preflight", action=argparse.BooleanOptionalAction, default=True,
                    help="shop option products.preflight: TikTok's listing_check before each create")
    ap.add_argument("--tracemalloc", action="store_true",
                    help="also report the Python heap's peak (tracemalloc; makes the sync about 3x slower)")
    ap.add_argument("--profile", metavar="FILE", help="write a cProfile of the products flow (every thread "
                    "of the bridge process, merged) to FILE; read it with `python -m pstats FILE`")
    ap.add_argument("--profile-top", type=int, default=30, metavar="N",
                    help="with --profile: print the N functions with the most own and cumulative time")
    ap.add_argument("--sample", action="store_true",
                    help="sample the products flow's running stacks every 5 ms (little overhead) and print "
                    "the top functions (--profile-top N), inclusive and own")
    ap.add_argument("--profile-clock", choices=("cpu", "wall"), default="cpu",
                    help="with --profile: time functions by each thread's CPU time (default) or wall time")
    args = ap.parse_args()
    pm = PluginManager()
    eco = pm.call(args.platform, "sandbox", options={"seed": 0})
    tt = pm.call(CHANNEL, "sandbox", options={"rate_limit": args.rate_limit})
    n_products = -(-args.variants // args.per_product)
    t0 = time.perf_counter()
    eco.seed_catalog(n_products, args.per_product, seed=1)
    print(f"seeded {n_products} products ({args.platform}) in {time.perf_counter() - t0:.1f}s", file=sys.stderr)
    data = tempfile.mkdtemp(prefix="bridge-bench-")
    ctx = multiprocessing.get_context("fork")
    eco_srv, tt_srv = Served(eco, ctx), Served(tt, ctx)
    img_port = free_port()
    img = ctx.Process(target=_images, args=(img_port,), daemon=True)
    img.start()
    _wait_port(img_port)
    env = {"BRIDGE_DATA_DIR": data, "BRIDGE_CONFIG_DIR": os.path.join(data, "config")}
    conn = {"eco_settings": eco.base_url_setting(eco_srv.url), "eco_creds": eco.credentials(),
            "tt_settings": tt.base_url_setting(tt_srv.url), "tt_creds": tt.credentials()}
    for name, sb, srv in ((args.platform, eco, eco_srv), (CHANNEL, tt, tt_srv)):
        for key, value in sb.app_settings().items():
            env[f"BRIDGE_{name.upper()}_{key.upper()}"] = str(value)
        env[f"BRIDGE_{name.upper()}_BASE_URL"] = srv.url
    del eco, tt  # their state lives in the serving processes now
    # The bridge process starts fresh (spawn): a forked child would begin with the parent's seeded
    # sandboxes in its resident set and inflate the memory figures.
    spawn = multiprocessing.get_context("spawn")
    queue, go = spawn.Queue(), spawn.Event()
    child = spawn.Process(target=_child, args=(args, conn, f"http://127.0.0.1:{img_port}", env, queue, go))
    child.start()
    figures: dict[str, Any] = {}
    for phase in ("setup", "read", "initial", "noop"):
        name, data_ = queue.get(timeout=7200)
        assert name == phase, (name, phase)
        figures[phase] = {**data_, "eco": eco_srv.cmd("stats"), "tt": tt_srv.cmd("stats")}
        eco_srv.cmd("reset")
        tt_srv.cmd("reset")
        if phase == "setup":
            eco_srv.cmd("latency", args.latency_ms)
            tt_srv.cmd("latency", args.latency_ms)
        go.set()
        print(f"phase {phase} done", file=sys.stderr)
    child.join()
    eco_srv.stop()
    tt_srv.stop()
    img.terminate()
    _report(args, n_products, figures)


def _report(args: Any, n_products: int, f: dict[str, Any]) -> None:
    init, read, noop = f["initial"], f["read"], f["noop"]
    tt_routes = init["tt"]["by_route"]
    busiest = max(tt_routes.items(), key=lambda kv: kv[1]) if tt_routes else ("-", 0)
    floor = busiest[1] / args.rate_limit if args.rate_limit else 0.0
    creates = sum(v for k, v in tt_routes.items() if k.startswith("POST") and k.rstrip("/").endswith("/products"))
    uploads = sum(v for k, v in tt_routes.items() if "images/upload" in k)
    print(f"catalog:              {n_products} products, {read['variants']} variants ({args.platform})")
    print(f"added latency:        {args.latency_ms:.0f} ms per request; TikTok rate limit {args.rate_limit:g}/s per API")
    print(f"initial sync:         {init['wall']:.1f}s wall (products {init['wall_products']:.1f}s, inventory "
          f"{init['wall'] - init['wall_products']:.1f}s); counts {init['products']} / {init['inventory']}")
    if floor:
        print(f"rate-limit floor:     {floor:.1f}s ({busiest[1]} requests on {busiest[0]}); "
              f"ratio {init['wall'] / floor:.2f}")
    checks = sum(v for k, v in tt_routes.items() if k.endswith("/products/listing_check"))
    minimum = creates + uploads + (checks if args.preflight else 0)
    print(f"TikTok requests:      {init['tt']['total']} (minimum {minimum}: {creates} creates + {uploads} distinct "
          f"images" + (f" + {checks} pre-flight checks, one per create" if args.preflight else "")
          + f"); ratio {init['tt']['total'] / max(1, minimum):.3f}; {_routes(init['tt'])}")
    print(f"store requests:       {init['eco']['total']} (minimum {read['eco']['total']}: one read of the "
          f"catalog); {_routes(init['eco'])}")
    created = int(init["products"].get("created", 0))
    if created:
        print(f"CPU per listing:      {1000 * init['cpu_products'] / created:.1f} ms (bridge process, user + system, "
              f"{init['cpu_products']:.1f}s over {created} created listings)")
    print(f"rate-limit errors:    {init['tt']['throttled']}")
    print(f"peak memory:          {init['rss_peak'] / 1e6:.1f} MB resident (+{(init['rss_peak'] - init['rss_base']) / 1e6:.1f} MB "
          f"during the sync from {init['rss_base'] / 1e6:.1f} MB; products flow alone "
          f"{init['rss_products'] / 1e6:.1f} MB; the bridge process alone, started fresh)"
          + (f"; Python heap peak {init['peak'] / 1e6:.1f} MB (tracemalloc)" if args.tracemalloc else ""))
    print(f"no-op re-sync:        {noop['eco']['total'] + noop['tt']['total']} requests "
          f"({noop['eco']['writes'] + noop['tt']['writes']} writes) in {noop['wall']:.1f}s; "
          f"store: {_routes(noop['eco'])}; TikTok: {_routes(noop['tt'])}")


if __name__ == "__main__":
    main()
