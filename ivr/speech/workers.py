"""Worker processes for engines that hold the GIL or fill every core while they decode.

Each worker loads its engine's model once (the engine's `load` function), runs at a lower CPU
priority than the engine process, so the media clock's thread gets a core first when recognitions
pile up, and leaves by itself when the engine process is gone, even when it was killed.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from typing import Any, Callable

NICENESS = 10                    # added to the workers' priority (lower priority; 19 is the lowest)


def process_pool(workers: int, load: Callable[..., None], *args: Any) -> ProcessPoolExecutor:
    """`workers` spawned processes, each running `load(*args)` once at start, at a lower priority."""
    return ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                               initializer=_start, initargs=(os.getpid(), load, args))


def _start(parent: int, load: Callable[..., None], args: tuple[Any, ...]) -> None:
    try:
        os.nice(NICENESS)
    except OSError:              # not allowed here: run at the engine's own priority
        pass
    threading.Thread(target=_exit_with_parent, args=(parent,), daemon=True).start()
    load(*args)


def _exit_with_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(0)
