"""Resident memory of server processes under load, sampled from ``/proc`` (Linux).

``RssSampler`` follows a process and its descendants (uvicorn workers, or the node process
started by ``postgraphile.sh``) and keeps every process's RSS over time, so a run reports
the peak of ONE server process and whether it stays flat.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

PAGE_MIB = 1024 * 1024


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


def process_tree(pid: int) -> list[int]:
    """``pid`` and its live descendants."""
    todo, seen = [pid], []
    while todo:
        current = todo.pop()
        seen.append(current)
        todo += _children(current)
    return seen


def tree_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of ``pid`` and its live descendants."""
    ticks = 0
    for member in process_tree(pid):
        try:
            fields = Path(f"/proc/{member}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def _rss_bytes(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


class RssSampler(threading.Thread):
    """Samples the RSS of ``root`` and its descendants (those ``keep`` accepts by command
    line) every ``interval`` seconds until ``stop()``."""

    def __init__(
        self, root: int, keep: Callable[[str], bool] = lambda _: True, interval: float = 0.5
    ) -> None:
        super().__init__(daemon=True)
        self.root, self.keep, self.interval = root, keep, interval
        self.samples: list[tuple[float, dict[int, int]]] = []
        self._done = threading.Event()
        self._commands: dict[int, str] = {}

    def run(self) -> None:
        started = time.monotonic()
        while not self._done.is_set():
            sample: dict[int, int] = {}
            for pid in process_tree(self.root):
                if pid not in self._commands:
                    self._commands[pid] = _cmdline(pid)
                rss = _rss_bytes(pid) if self.keep(self._commands[pid]) else None
                if rss is not None:
                    sample[pid] = rss
            self.samples.append((time.monotonic() - started, sample))
            self._done.wait(self.interval)

    def stop(self) -> RssSampler:
        self._done.set()
        self.join()
        return self

    def peak_mib(self) -> float | None:
        """The largest RSS any single sampled process reached."""
        peaks = [rss for _, sample in self.samples for rss in sample.values()]
        return max(peaks) / PAGE_MIB if peaks else None

    def series_mib(self, every: float) -> list[tuple[float, float]]:
        """(seconds, largest single-process RSS) at most once per ``every`` seconds."""
        out: list[tuple[float, float]] = []
        for at, sample in self.samples:
            if sample and (not out or at - out[-1][0] >= every):
                out.append((at, max(sample.values()) / PAGE_MIB))
        return out
