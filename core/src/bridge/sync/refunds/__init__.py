"""Refunds: TikTok returns, refunds and line cancellations -> the store order, exactly once;
lines cancelled in the store before shipment -> TikTok cancellations.

Decide, then apply. :func:`decide_channel` turns one channel record (a return or a cancellation)
plus what bridge remembers into one typed action: ``Wait`` (the buyer is not paid back yet),
``Close`` (rejected, closed, or a whole-order cancellation the orders flow handles), ``Hold``
(cannot be applied: the reason says what to do), ``Refund`` (a store refund) or ``CancelLines``
(a TikTok line cancelled in an order that goes on: the store order changes for those units).
:func:`decide_store` turns a store order whose lines were cancelled before shipment (beyond
what bridge itself changed there) into ``CancelOnChannel``. ``bridge plan refunds`` shows the
actions; ``bridge sync refunds`` applies exactly those.

Where things are: the pure decisions above in :mod:`~bridge.sync.refunds.verdicts`; the typed
actions in :mod:`~bridge.sync.refunds.actions`; ``RefundsDecider`` (reads what bridge remembers,
turns verdicts into actions) in :mod:`~bridge.sync.refunds.decide`; ``RefundsApplier`` in
:mod:`~bridge.sync.refunds.apply`; the run in :mod:`~bridge.sync.refunds.run`.

Exactly once: a :class:`~bridge.tables.RefundRecord` (unique per shop, kind and TikTok id) is
claimed *before* the write, its attempt counted before the call. A record whose earlier attempt
may have reached the platform (a crash, a lost answer) is first looked up there by the key bridge
stores with every write (``find_refund``; for channel cancellations, TikTok's cancelled units
against the target written into the record). The plugins refuse a refund that cannot be applied
whole (order missing, lines already refunded, amount above what is left): it is held with the
reason, never half-applied, and tried again on every run.

Restock (shop option ``refunds.restock``): ``returned`` (default) restocks a return only once
the item came back to the seller, and units cancelled before shipment; ``always``; ``never``.
"""

from __future__ import annotations

from bridge.sync.base import register_flow
from bridge.sync.refunds.apply import RefundsApplier
from bridge.sync.refunds.run import refunds_flow

__all__ = ["refunds_flow"]

register_flow("refunds", refunds_flow, interval_key="interval.refunds", applier=RefundsApplier,
              description="TikTok returns, refunds and line cancellations -> store refunds (exactly once); "
                          "store line cancellations -> TikTok")
