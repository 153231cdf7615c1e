"""Python's cyclic garbage collector around the bulk jobs: loading data, running a plan and
checking plan files.

Both make hundreds of thousands of small records next to a dataset of millions more, and none
of them forms a reference cycle (a dropped result or dataset is freed by reference counting;
tests/test_eval_internals.py checks both). With the collector on, its repeated scans of them
can cost more than the job itself: the first run on 1M freshly loaded events took 3.2 s with it
on and later ones 1.3 s, against 1.1 s paused (`bench/run_bench.py --sizes 1M --rounds 1
--no-gc-pause`); loading 100k events takes 4.8 s with it on and 2.6 s paused (the loader
timing of `bench/run_bench.py`). Paused, the records would all be scanned once when the
collector next runs, as young objects, only to be kept: they are the result. `gc.freeze()` then
`gc.unfreeze()` moves every tracked object to the oldest generation without a scan; full
collections still see them.

The collector is the process's: while a job goes on, no thread's cyclic garbage is collected,
and what other threads made meanwhile moves to the oldest generation with the job's records (a
full collection frees it). Jobs in several threads share one pause and the last to end
restores the setting the first found. When the caller has frozen objects of its own, the
promotion is left out (unfreezing would undo theirs). A program that must keep collecting
passes `pause_gc=False` to `evaluate`, `api.run`, `api.load_data` or `load_dataset`.

Checking plan files pauses the collector without the promotion (`promote=False`): parsing a
file with errors raises and catches exceptions, whose tracebacks are reference cycles, and
those must go at the next young collection (about 0.1 s for 100 files of 200 lines, against
0.1 to 0.6 s of repeated scans while parsing them with the collector on).
"""

from __future__ import annotations

import contextlib
import gc
import threading

_lock = threading.Lock()
_jobs = 0  # jobs in progress (in any thread) under a paused collector
_was_enabled = True  # the collector's setting when the first of them began
_promote = True  # whether every job since then leaves only acyclic records


@contextlib.contextmanager
def collector_paused(pause: bool = True, promote: bool = True):
    """Pause the collector for a job, then (with `promote`) move what it made to the oldest
    generation; see the module docstring."""
    global _jobs, _was_enabled, _promote
    if not pause:
        yield
        return
    with _lock:
        if _jobs == 0:
            _was_enabled, _promote = gc.isenabled(), True
            gc.disable()
        _jobs += 1
        _promote = _promote and promote
    try:
        yield
    finally:
        with _lock:
            _jobs -= 1
            if _jobs == 0:
                if _promote and gc.get_freeze_count() == 0:
                    gc.freeze()
                    gc.unfreeze()
                if _was_enabled:
                    gc.enable()
