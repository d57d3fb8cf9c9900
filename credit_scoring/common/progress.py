"""Progress lines for the long stages: one plain line per finished unit of work (a trial, a fold, a strategy),
with the time elapsed and an estimate of what is left, so that `dvc repro` never stays silent for long and its
log reads the same in a terminal and in a file."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TextIO


def duration(seconds: float) -> str:
    """``seconds`` as a person reads it: 42 s, 3 min 05 s, 1 h 02 min."""
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


class Progress:
    """Counts ``total`` units of work named ``label``; `step` prints one line per finished unit.

    The estimate of what is left is the mean time of a finished unit times the units left: a rough guide, low when
    the units left are the longer ones (the tune stage's refined trials and final folds after its fast coarse ones,
    or after pruned trials). ``clock`` and ``stream`` are there for tests."""

    def __init__(self, label: str, total: int, stream: TextIO | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.label, self.total, self.done = label, total, 0
        self.stream, self.clock = stream, clock
        self.started = clock()

    def step(self, what: str) -> str:
        """One unit finished; ``what`` says which and how it went. Returns the printed line."""
        self.done += 1
        return self._print(f"[{self.label} {self.done}/{self.total}]", what)

    def note(self, what: str) -> str:
        """A part of the unit under way finished (a fold of a trial): said, not counted."""
        return self._print(f"[{self.label} {self.done}/{self.total}]  ", what)

    def _print(self, head: str, what: str) -> str:
        elapsed = self.clock() - self.started
        left = self.total - self.done
        estimate = f", about {duration(elapsed / self.done * left)} left" if self.done and left > 0 else ""
        line = f"  {head} {what} ({duration(elapsed)} elapsed{estimate})"
        print(line, file=self.stream or sys.stdout, flush=True)
        return line
