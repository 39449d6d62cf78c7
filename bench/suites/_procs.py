"""Peak resident memory of a process tree, read from /proc while the processes still run.

`getrusage(RUSAGE_CHILDREN)` is no use for pool workers: Linux folds the parent's resident size at
fork time into the child's `ru_maxrss`, so a worker forked from a 2 GiB parent "peaks" at 2 GiB.
`VmHWM` in /proc/<pid>/status is the high-water mark of the process's current memory only.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["descendants", "tcp_sockets", "tree_peak_mib"]


def descendants(pid: int) -> list[int]:
    """Every live process below `pid` (children, their children, ...)."""
    found: list[int] = []
    stack = [pid]
    while stack:
        parent = stack.pop()
        for task in Path(f"/proc/{parent}/task").glob("*"):
            children = task / "children"
            try:
                pids = [int(p) for p in children.read_text().split()]
            except OSError:
                continue
            found += pids
            stack += pids
    return found


def tree_peak_mib(pid: int | None = None, *, include_root: bool = False) -> float:
    """Largest VmHWM (MiB) among the processes below `pid` (default: this process); 0 if none."""
    root = os.getpid() if pid is None else pid
    pids = descendants(root) + ([root] if include_root else [])
    peak = 0.0
    for each in pids:
        try:
            status = Path(f"/proc/{each}/status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                peak = max(peak, int(line.split()[1]) / 1024)
    return peak


def tcp_sockets(pid: int, port: int, *, listening: bool = False) -> int:
    """How many established (or listening) TCP sockets process `pid` holds on local `port`
    (IPv4)."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").glob("*"):
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    count = 0
    for line in Path(f"/proc/{pid}/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local_port = int(fields[1].rsplit(":", 1)[1], 16)
        state = "0A" if listening else "01"
        if local_port == port and fields[3] == state and fields[9] in inodes:
            count += 1
    return count
