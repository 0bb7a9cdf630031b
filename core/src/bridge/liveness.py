"""Who owns a lease or a run, and whether that process is known to be dead.

An owner is ``host|boot id|pid|start time|tag``: on the same host, a different boot id, a pid
that no longer exists, or a pid whose start time differs (the pid was reused) means the owner
is dead, so its job leases and ``running`` runs can be recovered at once instead of waiting
for the lease to expire. An owner on another host is never judged dead here (its lease expires).
"""

from __future__ import annotations

import functools
import os
import socket


@functools.cache
def boot_id() -> str:
    """This machine's boot id (Linux), or ``-`` where there is none."""
    try:
        with open("/proc/sys/kernel/random/boot_id") as fh:
            return fh.read().strip()
    except OSError:
        return "-"


def _start_time(pid: int) -> str | None:
    """The process's start time in clock ticks since boot (Linux), None if unknown."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            stat = fh.read()
    except OSError:
        return None
    return stat.rsplit(")", 1)[-1].split()[19]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@functools.lru_cache(maxsize=4)
def _own_start_time(pid: int) -> str | None:
    """This process's start time (read once per pid: it does not change, a fork has its own)."""
    return _start_time(pid)


def identity(tag: str = "") -> str:
    """This process as an owner string (``tag`` tells apart owners within one process)."""
    pid = os.getpid()
    return f"{socket.gethostname()}|{boot_id()}|{pid}|{_own_start_time(pid) or '-'}|{tag}"


def is_dead(owner: str | None) -> bool:
    """True only when ``owner``'s process is known to have ended (see the module)."""
    if not owner:
        return False
    parts = owner.split("|")
    if len(parts) < 4 or parts[0] != socket.gethostname():
        return False
    boot, pid_s, started = parts[1], parts[2], parts[3]
    if boot != boot_id():
        return True
    try:
        pid = int(pid_s)
    except ValueError:
        return False
    if not _alive(pid):
        return True
    now = _start_time(pid)
    return started != "-" and now is not None and now != started
