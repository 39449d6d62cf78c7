"""Run in an ingest worker by tests: it imports nothing of the project, so what it finds imported
there the worker imported itself."""

from __future__ import annotations

import os
import sys
import time
from typing import IO

__all__ = ["die", "slow", "worker_state"]


def worker_state() -> tuple[bool, int]:
    """Whether the ingest use case is imported in this process, and its scheduling policy."""
    return "optimizer.usecases.ingest" in sys.modules, os.sched_getscheduler(0)


def die(data: IO[bytes]) -> IO[bytes]:
    """An upload transform that kills its worker mid-upload, as the OOM killer would."""
    os._exit(1)


def slow(data: IO[bytes]) -> IO[bytes]:
    """An upload transform that takes two seconds, so that an upload is still in flight."""
    time.sleep(2.0)
    return data
