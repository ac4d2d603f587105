"""Changes to the server of Pulumi's Python dynamic providers: more worker
threads, and an exit when its engine has ended.

Pulumi runs every Python dynamic resource of a stack through one gRPC server
in one process (`python -m pulumi.dynamic`), and that server's thread pool
has 4 workers (Pulumi's Python SDK 3.272.0). Each create, update or delete
occupies a worker until it returns, so at most 4 run at once whatever
`pulumi up --parallel` allows. A copy occupies its worker for the minutes
EC2 takes, so 20 clones would take 5 rounds of that wait.

When this package's provider is loaded in that process, `widen()` sets
the pool's limit to AMITOOLS_PULUMI_PROVIDER_THREADS (default 32). The pool
is reached through the server object in the main thread's stack. If that
layout is not found, as a future Pulumi release may change it, nothing is
changed and the pool keeps its own limit. `exit_with_engine()` ends the
server once the engine that started it has ended.
"""

from __future__ import annotations

import logging
import os
import socket
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

logger = logging.getLogger(__name__)

THREADS_VARIABLE = "AMITOOLS_PULUMI_PROVIDER_THREADS"
DEFAULT_THREADS = 32
DYNAMIC_SERVER_MODULE = "pulumi.dynamic.__main__"


def configured_threads() -> int:
    """Return the worker count from AMITOOLS_PULUMI_PROVIDER_THREADS, else 32."""
    text = os.environ.get(THREADS_VARIABLE, "").strip()
    if not text:
        return DEFAULT_THREADS
    if text.isdigit() and 1 <= int(text) <= 1024:
        return int(text)
    logger.warning(
        "%s=%r is invalid: use a whole number from 1 to 1024; using %d",
        THREADS_VARIABLE,
        text,
        DEFAULT_THREADS,
    )
    return DEFAULT_THREADS


def in_dynamic_server() -> bool:
    """Tell whether this process is Pulumi's dynamic-provider server."""
    spec = getattr(sys.modules.get("__main__"), "__spec__", None)
    return getattr(spec, "name", None) == DYNAMIC_SERVER_MODULE


def dynamic_server_pool() -> ThreadPoolExecutor | None:
    """Return the thread pool of the dynamic-provider server in this process."""
    if not in_dynamic_server():
        return None
    frame: Any = sys._current_frames().get(threading.main_thread().ident)
    while frame is not None:
        server = frame.f_locals.get("server")
        state = getattr(server, "_state", None)
        pool = getattr(state, "thread_pool", None)
        if isinstance(pool, ThreadPoolExecutor):
            return pool
        frame = frame.f_back
    return None


def widen() -> int | None:
    """Set the dynamic-provider server's worker limit; return the new limit.

    Return None, changing nothing, outside that server or when its pool is
    not found.
    """
    pool = dynamic_server_pool()
    if pool is None:
        return None
    threads = configured_threads()
    try:
        with pool._shutdown_lock:
            pool._max_workers = threads
            # Requests queued before the change get their threads now.
            for _ in range(pool._work_queue.qsize()):
                pool._adjust_thread_count()
    except AttributeError as error:
        logger.debug("the provider server's pool was left as it is: %s", error)
        return None
    logger.debug("the provider server runs up to %d requests at once", threads)
    return threads


def engine_gone(parent: int, engine_address: str | None) -> bool:
    """Tell whether the Pulumi engine that started this process has ended.

    Either this process was handed to another parent, or nothing listens on
    the engine's address any more.
    """
    if os.getppid() != parent:
        return True
    if not engine_address:
        return False
    host, _, port = engine_address.rpartition(":")
    try:
        with socket.create_connection((host, int(port)), timeout=2):
            return False
    except ConnectionRefusedError:
        return True
    except (OSError, ValueError):
        return False


def exit_with_engine(poll_seconds: float = 2.0) -> bool:
    """Make the dynamic-provider server exit once its engine has ended.

    Pulumi leaves this process running when the CLI is killed. It would then
    finish a copy that no state records, and the next `up` would make a second
    one. Exiting leaves the copy unfinished, so the next `up` resumes it.
    Return whether the watch was started.
    """
    if not in_dynamic_server():
        return False
    parent = os.getppid()
    engine_address = sys.argv[1] if len(sys.argv) > 1 else None

    def watch() -> None:
        while True:
            time.sleep(poll_seconds)
            if engine_gone(parent, engine_address):
                logger.warning("the Pulumi engine has ended; the provider exits")
                os._exit(1)

    threading.Thread(target=watch, name="amitools-engine-watch", daemon=True).start()
    return True
