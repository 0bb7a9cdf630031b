"""The process-wide shutdown signal: set while the process is shutting down.

The scheduler sets it (SIGTERM/SIGINT or the end of its run); flows check it between items and
stop cleanly after a checkpoint. It lives apart from both so neither imports the other for it.
"""

from __future__ import annotations

import threading

#: Set while the process is shutting down: flows check it between items and stop cleanly.
stopping = threading.Event()
