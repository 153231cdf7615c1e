"""Progress of the long jobs (loading data files, evaluating a plan), for a progress bar.

A job tells its `Meter` each stage it starts, with the stage's size in units of work (rows
of a file, events, credit lines, earning lines), and how many units are done now and then
(every `EVERY` units: the hot loops pay one comparison per item). The library never prints:
the command line shows a bar on a terminal (`TerminalMeter`), and nothing when stderr is not
a terminal (no meter at all).
"""

from __future__ import annotations

import sys
from typing import Protocol

EVERY = 8192  # units of work between two updates


class Meter(Protocol):
    def stage(self, name: str, total: int) -> None:
        """A stage begins: `total` units of work (0 when unknown)."""

    def update(self, done: int) -> None:
        """`done` units of the current stage are done."""


class Quiet:
    """The meter of a job nobody watches."""

    def stage(self, name: str, total: int) -> None:
        pass

    def update(self, done: int) -> None:
        pass


QUIET = Quiet()


class TerminalMeter:
    """A rich progress bar on stderr, one line per stage, cleared when the job ends. Use it as
    a context manager; `for_stderr()` gives None when stderr is not a terminal."""

    def __init__(self, console=None) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn,
        )

        self._bar = Progress(TextColumn("{task.description}"), BarColumn(),
                             MofNCompleteColumn(), TimeElapsedColumn(),
                             console=console or Console(stderr=True), transient=True)
        self._task = None

    @classmethod
    def for_stderr(cls) -> TerminalMeter | None:
        return cls() if sys.stderr.isatty() else None

    def __enter__(self) -> TerminalMeter:
        self._bar.start()
        return self

    def __exit__(self, *exc) -> None:
        self._bar.stop()

    def stage(self, name: str, total: int) -> None:
        if self._task is not None:  # the previous stage is done
            task = self._bar.tasks[-1]
            self._bar.update(self._task, completed=task.total or task.completed)
        self._task = self._bar.add_task(name, total=total or None)

    def update(self, done: int) -> None:
        if self._task is not None:
            self._bar.update(self._task, completed=done)
