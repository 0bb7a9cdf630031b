"""The sync flows (products, inventory, orders, tracking, listings) and their registry.

A flow is a function ``fn(ctx: FlowContext) -> None`` registered with :func:`register_flow`. It
reads the platforms through typed read-only views (``ctx.reader(store)``, see
:mod:`bridge.facade`) and bridge's state, decides, and hands typed actions
(:mod:`bridge.sync.actions`) to ``ctx.act``. :func:`plan_flow` (``bridge plan``) keeps them to
print and writes nothing; :func:`run_flow` applies exactly those actions through the flow's
applier, recording a :class:`~bridge.tables.SyncRun` with counts and per-item errors.
"""

from bridge.sync.base import (
    FLOWS,
    FlowContext,
    FlowSpec,
    RunResult,
    jobs_for_org,
    plan_flow,
    register_flow,
    run_flow,
)

__all__ = ["FLOWS", "FlowContext", "FlowSpec", "RunResult", "jobs_for_org", "plan_flow", "register_flow",
           "run_flow"]
