"""A scheduler driven by a fake clock: the test moves time and says when to look for due jobs."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from apscheduler.schedulers.base import BaseScheduler


class FakeClock:
    """Now, as the test says; aware UTC."""

    def __init__(self, start: dt.datetime) -> None:
        self.now = start.astimezone(dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Make APScheduler's scheduler loop and misfire check read this clock."""
        clock = self

        class _Now(dt.datetime):
            @classmethod
            def now(cls, tz: Any = None) -> dt.datetime:  # type: ignore[override]
                return clock.now if tz is None else clock.now.astimezone(tz)

        monkeypatch.setattr("apscheduler.schedulers.base.datetime", _Now)
        monkeypatch.setattr("apscheduler.executors.base.datetime", _Now)


class ManualScheduler(BaseScheduler):
    """No thread, no timer: `tick()` processes the jobs due at the fake clock's time."""

    def shutdown(self, wait: bool = True) -> None:
        super().shutdown(wait)

    def wakeup(self) -> None:
        """Nothing to wake: the test calls `tick`."""

    def tick(self) -> None:
        self._process_jobs()

    def next_fire(self) -> dt.datetime:
        times = [job.next_run_time for job in self.get_jobs() if job.next_run_time is not None]
        return min(times).astimezone(dt.UTC)
