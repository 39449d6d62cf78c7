"""Run in an ingest worker by tests: it imports nothing of the project, so what it finds imported
there the worker imported itself."""

from __future__ import annotations

import os
import sys

__all__ = ["worker_state"]


def worker_state() -> tuple[bool, int]:
    """Whether the ingest use case is imported in this process, and its scheduling policy."""
    return "optimizer.usecases.ingest" in sys.modules, os.sched_getscheduler(0)
