"""`bridge sandbox-ctl PLATFORM --url URL COMMAND`: drive a running `bridge sandbox` from a shell
through its control API (``/_sandbox``, see :mod:`bridge.sandboxing.control`)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import click

from bridge.sandboxing.kit import CONTROL_PREFIX


class Control:
    """The control API of one sandbox, checked to be the platform named on the command line."""

    def __init__(self, platform: str, url: str) -> None:
        self.platform = platform
        self.url = url.rstrip("/")
        self._info: dict[str, Any] | None = None

    def call(self, method: str, path: str, body: dict[str, Any] | None = None,
             params: dict[str, str] | None = None) -> Any:
        import httpx

        try:
            resp = httpx.request(method, f"{self.url}{CONTROL_PREFIX}{path}", json=body, params=params,
                                 timeout=30.0)
        except httpx.HTTPError as exc:
            raise click.ClickException(
                f"no sandbox answers at {self.url} ({type(exc).__name__}): start one with "
                f"`bridge sandbox {self.platform} --port N`") from None
        try:
            data = resp.json()
        except ValueError:
            raise click.ClickException(f"{self.url} is not a bridge sandbox (HTTP {resp.status_code} "
                                       f"without JSON at {CONTROL_PREFIX}{path})") from None
        if resp.status_code >= 400:
            message = data.get("error") if isinstance(data, dict) else None
            raise click.ClickException(message or f"HTTP {resp.status_code}")
        return data

    def check(self) -> dict[str, Any]:
        """The sandbox's ``GET /_sandbox`` (asked once per command), checked to be the platform."""
        if self._info is None:
            info = self.call("GET", "")
            if info.get("platform") != self.platform:
                raise click.ClickException(f"the sandbox at {self.url} is {info.get('platform')!r}, "
                                           f"not {self.platform!r}")
            self._info = info
        return self._info


def _out(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, default=str))


class CtlGroup(click.Group):
    """Takes ``--url`` after PLATFORM too (``sandbox-ctl shopify --url URL stats``): a group
    otherwise reads options only before its first argument."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        args = list(args)
        if len(args) > 1 and not args[0].startswith("-"):
            if args[1] == "--url" and len(args) > 2:
                args = [args[1], args[2], args[0], *args[3:]]
            elif args[1].startswith("--url="):
                args = [args[1], args[0], *args[2:]]
        return super().parse_args(ctx, args)


@click.group("sandbox-ctl", cls=CtlGroup)
@click.argument("platform")
@click.option("--url", required=True, metavar="URL", help="Where `bridge sandbox PLATFORM` serves.")
@click.pass_context
def sandbox_ctl(ctx: click.Context, platform: str, url: str) -> None:
    """Drive a running sandbox: seed, set stock, place / cancel / fulfil orders, inject faults,
    list webhook subscriptions, read statistics, reset. Answers are JSON."""
    ctx.obj = Control(platform, url)


def _ctl(ctx: click.Context) -> Control:
    control: Control = ctx.find_object(Control)  # type: ignore[assignment]
    control.check()
    return control


@sandbox_ctl.command()
@click.pass_context
def info(ctx: click.Context) -> None:
    """Platform, kind, and the settings and credentials that connect bridge to it."""
    _out(_ctl(ctx).check())


def _declared(platform: str) -> dict[str, bool]:
    """The settings ``bridge connect PLATFORM`` takes: name -> secret."""
    from bridge.plugins import get_manager

    return {st.name: st.secret for st in get_manager().info(platform).settings}


@sandbox_ctl.command()
@click.pass_context
def env(ctx: click.Context) -> None:
    """Shell `export` lines pointing bridge at this sandbox: its app settings
    (BRIDGE_<PLATFORM>_*) and its credentials for `bridge connect` (BRIDGE_CONNECT_<PLATFORM>_*).
    Use: eval "$(bridge sandbox-ctl PLATFORM --url URL env)"."""
    import shlex

    control = _ctl(ctx)
    info = control.check()
    name = control.platform.upper()
    secret = {k for k, is_secret in _declared(control.platform).items() if is_secret}
    lines = [f"export BRIDGE_{name}_{k.upper()}={shlex.quote(str(v))}" for k, v in info["app_settings"].items()]
    lines.append(f"export BRIDGE_{name}_BASE_URL={shlex.quote(info['url'])}")
    lines += [f"export BRIDGE_CONNECT_{name}_{k.upper()}={shlex.quote(str(v))}"
              for k, v in info["credentials"].items() if k in secret]
    click.echo("\n".join(lines))


@sandbox_ctl.command("connect-options")
@click.pass_context
def connect_options(ctx: click.Context) -> None:
    """The options of `bridge connect PLATFORM` that point a store at this sandbox (its settings;
    the credentials come from `env`). Use: bridge connect PLATFORM --org X $(... connect-options)."""
    import shlex

    control = _ctl(ctx)
    info = control.check()
    public = {k for k, is_secret in _declared(control.platform).items() if not is_secret}
    settings = info["settings"]
    options = ["--base-url", str(settings.get("base_url") or info["url"])]
    for k, v in settings.items():
        if k in public and k != "base_url":
            options += ["--" + k.replace("_", "-"), str(v)]
    click.echo(" ".join(shlex.quote(o) for o in options))


@sandbox_ctl.command()
@click.option("--products", type=int, default=10, show_default=True)
@click.option("--variants", type=int, default=1, show_default=True, help="Up to this many per product.")
@click.option("--seed", "seed_random", type=int, default=0, help="Random seed of names, prices, stock.")
@click.option("--shop", "shop_id", default=None, help="Channel sandboxes: the shop to seed.")
@click.pass_context
def seed(ctx: click.Context, products: int, variants: int, seed_random: int, shop_id: str | None) -> None:
    """Add a catalog of N products with up to M variants each."""
    body: dict[str, Any] = {"products": products, "variants": variants, "seed": seed_random}
    if shop_id:
        body["shop_id"] = shop_id
    _out(_ctl(ctx).call("POST", "/seed", body))


@sandbox_ctl.command("set-stock")
@click.argument("sku")
@click.argument("quantity", type=int)
@click.pass_context
def set_stock(ctx: click.Context, sku: str, quantity: int) -> None:
    """Set a variant's available quantity in an eCommerce store (as the merchant would)."""
    _out(_ctl(ctx).call("POST", "/stock", {"sku": sku, "quantity": quantity}))


@sandbox_ctl.command()
@click.argument("sku")
@click.pass_context
def stock(ctx: click.Context, sku: str) -> None:
    """A variant's available quantity in an eCommerce store."""
    _out(_ctl(ctx).call("GET", f"/stock/{quote(sku, safe='')}"))


def _line(value: str) -> dict[str, Any]:
    from bridge.values import parse_int

    sku, _, qty = value.rpartition(":")
    quantity = parse_int(qty, 1, 1_000_000)
    if not sku or quantity is None:
        raise click.BadParameter(f"'{value}': write SKU:QUANTITY, e.g. ABC-1:2")
    return {"sku": sku, "quantity": quantity}


@sandbox_ctl.command("place-order")
@click.argument("lines", nargs=-1, required=True, metavar="SKU:QTY...")
@click.option("--shop", "shop_id", default=None, help="The shop (default: the first).")
@click.option("--fulfilled-by", type=click.Choice(["seller", "platform"]), default=None)
@click.pass_context
def place_order(ctx: click.Context, lines: tuple[str, ...], shop_id: str | None,
                fulfilled_by: str | None) -> None:
    """Place a buyer's order on a channel (TikTok Shop) for SKU:QTY lines."""
    body: dict[str, Any] = {"lines": [_line(v) for v in lines]}
    if shop_id:
        body["shop_id"] = shop_id
    if fulfilled_by:
        body["fulfilled_by"] = fulfilled_by
    _out(_ctl(ctx).call("POST", "/orders", body))


@sandbox_ctl.command("cancel-order")
@click.argument("order_id")
@click.pass_context
def cancel_order(ctx: click.Context, order_id: str) -> None:
    """Cancel an order (the merchant in a store; the buyer on a channel)."""
    _out(_ctl(ctx).call("POST", f"/orders/{quote(order_id, safe='')}/cancel"))


@sandbox_ctl.command("fulfil-order")
@click.argument("order_id")
@click.option("--tracking", "number", required=True, help="The tracking number.")
@click.option("--carrier", required=True, help="The carrier's name, e.g. 'Royal Mail'.")
@click.option("--tracking-url", "url", default=None)
@click.pass_context
def fulfil_order(ctx: click.Context, order_id: str, number: str, carrier: str, url: str | None) -> None:
    """Fulfil a store order with a tracking number and carrier (as the merchant would)."""
    _out(_ctl(ctx).call("POST", f"/orders/{quote(order_id, safe='')}/fulfil",
                        {"number": number, "carrier": carrier, "url": url}))


@sandbox_ctl.command("create-return")
@click.argument("order_id")
@click.argument("lines", nargs=-1, required=True, metavar="SKU:QTY...")
@click.option("--type", "return_type", type=click.Choice(["REFUND", "RETURN_AND_REFUND"]), default="REFUND")
@click.option("--status", default=None, help="Jump to this state, e.g. RETURN_OR_REFUND_REQUEST_COMPLETE.")
@click.option("--amount", default=None, help="Refund less than the units' price (a partial refund).")
@click.option("--refund-shipping", is_flag=True, help="Refund the order's shipping fee too.")
@click.pass_context
def create_return(ctx: click.Context, order_id: str, lines: tuple[str, ...], return_type: str,
                  status: str | None, amount: str | None, refund_shipping: bool) -> None:
    """A buyer asks a channel (TikTok Shop) for a refund or a return of SKU:QTY of an order."""
    body: dict[str, Any] = {"lines": [_line(v) for v in lines], "return_type": return_type,
                            "refund_shipping": refund_shipping}
    if status:
        body["status"] = status
    if amount:
        body["amount"] = amount
    _out(_ctl(ctx).call("POST", f"/orders/{quote(order_id, safe='')}/returns", body))


@sandbox_ctl.command("advance-return")
@click.argument("return_id")
@click.option("--status", default=None, help="The state to move to (default: the next one).")
@click.pass_context
def advance_return(ctx: click.Context, return_id: str, status: str | None) -> None:
    """Move a channel return to its next state (or to --status)."""
    _out(_ctl(ctx).call("POST", f"/returns/{quote(return_id, safe='')}/advance", {"status": status}))


@sandbox_ctl.command("cancel-lines")
@click.argument("order_id")
@click.argument("lines", nargs=-1, required=True, metavar="SKU:QTY...")
@click.pass_context
def cancel_lines(ctx: click.Context, order_id: str, lines: tuple[str, ...]) -> None:
    """Cancel SKU:QTY units of a channel order that goes on (the buyer's item cancellation)."""
    _out(_ctl(ctx).call("POST", f"/orders/{quote(order_id, safe='')}/cancel-lines",
                        {"lines": [_line(v) for v in lines]}))


@sandbox_ctl.command("cancel-line")
@click.argument("order_id")
@click.argument("line", metavar="SKU:QTY")
@click.pass_context
def cancel_line(ctx: click.Context, order_id: str, line: str) -> None:
    """Take SKU:QTY units off an unfulfilled store order (as the merchant would)."""
    _out(_ctl(ctx).call("POST", f"/orders/{quote(order_id, safe='')}/cancel-line", _line(line)))


@sandbox_ctl.command()
@click.argument("order_id")
@click.pass_context
def refunds(ctx: click.Context, order_id: str) -> None:
    """An order's refunds (a store) or returns and cancellations (a channel)."""
    _out(_ctl(ctx).call("GET", f"/orders/{quote(order_id, safe='')}/refunds"))


@sandbox_ctl.command()
@click.argument("order_id", required=False)
@click.pass_context
def orders(ctx: click.Context, order_id: str | None) -> None:
    """A store's orders (or one order; on a channel, one order by id)."""
    _out(_ctl(ctx).call("GET", f"/orders/{quote(order_id, safe='')}" if order_id else "/orders"))


@sandbox_ctl.command()
@click.option("--shop", "shop_id", default=None, help="The shop (default: the first).")
@click.pass_context
def products(ctx: click.Context, shop_id: str | None) -> None:
    """A channel shop's products (listings) with their SKUs, prices and quantities."""
    _out(_ctl(ctx).call("GET", "/products", params={"shop_id": shop_id} if shop_id else None))


@sandbox_ctl.command()
@click.pass_context
def shops(ctx: click.Context) -> None:
    """A channel's shops."""
    _out(_ctl(ctx).call("GET", "/shops"))


@sandbox_ctl.command()
@click.option("--status", type=int, default=None, help="Answer this error status (platform shape).")
@click.option("--retry-after", type=float, default=None, help="Seconds, sent as Retry-After.")
@click.option("--delay-ms", type=float, default=0.0, help="Answer this much later.")
@click.option("--reset", is_flag=True, help="Reset the connection (no answer).")
@click.option("--truncate", is_flag=True, help="Cut the answer's body short (after processing).")
@click.option("--after", is_flag=True, help="Process the request first: a lost answer.")
@click.option("--method", default="*", show_default=True, help="Only this HTTP method.")
@click.option("--path", default="*", show_default=True, help="Only paths matching this pattern (fnmatch).")
@click.option("--body", default=None, help="Only requests whose body contains this text (e.g. orderCreate).")
@click.option("--count", type=int, default=1, show_default=True, help="How many requests it hits.")
@click.pass_context
def fault(ctx: click.Context, **fields: Any) -> None:
    """Inject a fault, e.g. `fault --status 429 --retry-after 2 --path '/v3/*' --count 3` or a lost
    answer `fault --after --reset --method POST --path '*/orders'`."""
    body = {k: v for k, v in fields.items() if v not in (None, False, 0.0) or k == "count"}
    _out(_ctl(ctx).call("POST", "/faults", body))


@sandbox_ctl.command()
@click.argument("action", required=False, type=click.Choice(["list", "clear"]), default="list")
@click.pass_context
def faults(ctx: click.Context, action: str) -> None:
    """List the faults still waiting, or `faults clear` them."""
    _out(_ctl(ctx).call("DELETE" if action == "clear" else "GET", "/faults"))


@sandbox_ctl.command()
@click.argument("ms", type=float)
@click.pass_context
def latency(ctx: click.Context, ms: float) -> None:
    """Add MS milliseconds before every answer."""
    _out(_ctl(ctx).call("POST", "/latency", {"ms": ms}))


@sandbox_ctl.command()
@click.pass_context
def subscriptions(ctx: click.Context) -> None:
    """The webhook subscriptions the platform holds (deliveries go to these addresses only)."""
    _out(_ctl(ctx).call("GET", "/subscriptions"))


@sandbox_ctl.command("webhook-fault")
@click.option("--drop", "kind", flag_value="drop", help="The delivery is lost (never sent).")
@click.option("--duplicate", "kind", flag_value="duplicate", help="The delivery is sent twice.")
@click.option("--count", type=int, default=1, show_default=True)
@click.option("--topic", default=None, help="Only deliveries of this topic (as the platform names it).")
@click.pass_context
def webhook_fault(ctx: click.Context, kind: str | None, count: int, topic: str | None) -> None:
    """Lose or duplicate the next webhook deliveries (polling must repair a lost one, a duplicate
    must change nothing)."""
    if kind is None:
        raise click.UsageError("say --drop or --duplicate")
    _out(_ctl(ctx).call("POST", "/webhook-faults", {"kind": kind, "count": count, "topic": topic}))


@sandbox_ctl.command()
@click.pass_context
def deliveries(ctx: click.Context) -> None:
    """Webhook deliveries attempted: address, topic, HTTP status."""
    _out(_ctl(ctx).call("GET", "/deliveries"))


@sandbox_ctl.command()
@click.pass_context
def stats(ctx: click.Context) -> None:
    """Requests served (by route), writes, rate-limited and faulted answers, pending faults."""
    _out(_ctl(ctx).call("GET", "/stats"))


@sandbox_ctl.command()
@click.option("--products", type=int, default=0, help="Seed this many products afterwards.")
@click.option("--variants", type=int, default=1)
@click.pass_context
def reset(ctx: click.Context, products: int, variants: int) -> None:
    """Forget everything: catalog, orders, subscriptions, faults, statistics."""
    body: dict[str, Any] = {"products": products, "variants": variants} if products else {}
    _out(_ctl(ctx).call("POST", "/reset", body))
