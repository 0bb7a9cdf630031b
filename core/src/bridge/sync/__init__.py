"""The sync flows (products, inventory, orders, tracking) and their registry.

A flow is a function ``fn(ctx: FlowContext) -> None`` registered with :func:`register_flow`; it
calls platform operations through ``ctx.call`` only, so every eCommerce plugin works with every
channel plugin through the same code. :func:`run_flow` runs one for an organization's store pair,
recording a :class:`~bridge.tables.SyncRun` with counts and per-item errors.
"""

from bridge.sync.base import (
    FLOWS,
    FlowContext,
    FlowSpec,
    RunResult,
    jobs_for_org,
    register_flow,
    run_flow,
)

__all__ = ["FLOWS", "FlowContext", "FlowSpec", "RunResult", "jobs_for_org", "register_flow", "run_flow"]
