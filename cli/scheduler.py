"""`ppcopt scheduler`: run the nightly jobs in this process until SIGTERM."""

from __future__ import annotations

import logging

__all__ = ["scheduler_command"]


def scheduler_command() -> None:
    """Run every account's nightly job at PPCOPT_NIGHTLY_TIME in its time zone (until stopped)."""
    from jobs.scheduler import run_until_stopped
    from optimizer.settings import get_settings

    settings = get_settings()
    for name in ("ppcopt", "apscheduler"):
        logging.getLogger(name).setLevel(settings.log_level.upper())
    if not logging.getLogger().handlers:
        logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s %(message)s")
    run_until_stopped(settings)
