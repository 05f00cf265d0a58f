"""Where a long job spends its time, by named stage: off (one context lookup) unless a caller
records, as the benchmarks do (bench/partner_filing.py reports the time per stage of deciding).

    with stages.recording(extra_cpu=backend_cpu) as times:
        filing_run(filing)
    times["match: URL join"]  # [wall seconds, this process's CPU seconds, extra CPU seconds]

`extra_cpu` is any other clock of CPU seconds to charge to the stages (the benchmark's database
backend process). Stages nest; each records its own time, inner stages included.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field


@dataclass
class _Recorder:
    extra_cpu: Callable[[], float] | None
    times: defaultdict[str, list[float]] = field(default_factory=lambda: defaultdict(lambda: [0.0, 0.0, 0.0]))

    def clocks(self) -> tuple[float, float, float]:
        extra = self.extra_cpu() if self.extra_cpu is not None else 0.0
        return time.perf_counter(), time.process_time(), extra


_recorder: ContextVar[_Recorder | None] = ContextVar("stages_recorder", default=None)


@contextmanager
def recording(*, extra_cpu: Callable[[], float] | None = None) -> Iterator[dict[str, list[float]]]:
    """Record every stage entered inside the block; yields name -> [wall, CPU, extra CPU] seconds."""
    recorder = _Recorder(extra_cpu)
    token = _recorder.set(recorder)
    try:
        yield recorder.times
    finally:
        _recorder.reset(token)


@contextmanager
def stage(name: str) -> Iterator[None]:
    """Charge the block's time to `name` when someone records; nothing otherwise."""
    recorder = _recorder.get()
    if recorder is None:
        yield
        return
    start = recorder.clocks()
    try:
        yield
    finally:
        end = recorder.clocks()
        total = recorder.times[name]
        for k in range(3):
            total[k] += end[k] - start[k]
