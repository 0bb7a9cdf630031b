"""Orders: TikTok shop -> the eCommerce store, exactly once; cancellations both ways.

Handed on: paid orders the seller ships (``awaiting_shipment``/``awaiting_collection``), once
TikTok releases them (``Order.released``). Orders TikTok fulfils itself are recorded (status
``recorded``), not created, unless the shop option ``orders.create_platform_fulfilled`` says so.

Exactly once: an :class:`~bridge.tables.OrderLink` (unique per shop and TikTok order) is claimed
with status ``creating`` *before* ``create_order``; the plugin's idempotent lookup (by the TikTok
order id the created order carries) covers a crash between create and record, and the claim
keeps two workers from both creating. An order another app already created is found and linked.

Lost answers (:class:`~bridge.errors.OutcomeUnknown`: the create may or may not have been made)
and crashed claims leave the link ``pending`` with ``data["unconfirmed_at"]``; the next attempt
waits out the store's lookup lag (:func:`lookup_lag`: the platform's declared
``PlatformInfo.lookup_lag`` or the store's ``lookup_lag`` setting) and then creates through the
plugin's find-before-create, so an order whose answer was lost is found, never made twice.
Claims start only from open statuses: a link another worker finished is never claimed again.

Lines are matched through the SKU links (TikTok SKU id, then seller SKU); an order with an
unmatched line is ``held`` with the reason and retried on every run until it goes through, and
so is an order bridge cannot read (an unknown status, a missing or malformed field): never
skipped. One order's transient failure fails that order, not the run (unless several orders in
a row fail so: the platform is down, and the scheduler backs off). Cancellations made in the
store are read from its change stream (a cursor): a run where nothing changed costs a request
or two.
A TikTok cancellation cancels the eCommerce order; an eCommerce cancellation of a linked order
cancels it on TikTok where the plugin can, else it is reported.

Where things are:

* :mod:`~bridge.sync.orders.actions` — the typed actions (``WaitOrder``, ``RecordOrder``,
  ``HoldOrder``, ``HoldUnreadable``, ``CreateOrder``, ``CancelStoreOrder``, ``CancelChannelOrder``);
* :mod:`~bridge.sync.orders.decide` — ``OrdersDecider`` (reads only): line matching, the draft,
  store cancellations;
* :mod:`~bridge.sync.orders.apply` — ``OrdersApplier``, one method per action; the claim, the
  lookup lag after a lost answer;
* :mod:`~bridge.sync.orders.run` — the run: stream, retries, store cancellations.
"""

from __future__ import annotations

from bridge.sync.base import register_flow
from bridge.sync.orders.apply import OrdersApplier
from bridge.sync.orders.run import orders_flow

__all__ = ["orders_flow"]

register_flow("orders", orders_flow, interval_key="interval.orders", applier=OrdersApplier,
              description="TikTok orders -> eCommerce orders (exactly once), cancellations both ways")
