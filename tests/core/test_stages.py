"""Stages: nothing recorded unless someone records; nested stages, each with its own time."""

from __future__ import annotations

import time

from core import stages


def test_it_records_nothing_when_no_one_records():
    with stages.stage("outside"):
        pass
    with stages.recording() as times:
        pass
    assert dict(times) == {}


def test_it_records_wall_cpu_and_the_extra_clock_of_nested_stages():
    extra = iter([10.0, 10.5, 11.0, 12.0])  # outer start, inner start, inner end, outer end
    with (
        stages.recording(extra_cpu=lambda: next(extra)) as times,
        stages.stage("outer"),
        stages.stage("inner"),
    ):
        deadline = time.process_time() + 0.02
        while time.process_time() < deadline:
            pass
    assert set(times) == {"outer", "inner"}
    assert times["outer"][0] >= times["inner"][0] >= 0.02
    assert times["inner"][1] >= 0.02
    assert times["inner"][2] == 0.5 and times["outer"][2] == 2.0


def test_a_stage_entered_twice_adds_up_and_recording_ends_with_its_block():
    with stages.recording() as times:
        for _ in range(2):
            with stages.stage("twice"):
                time.sleep(0.01)
    with stages.stage("twice"):
        time.sleep(0.05)
    assert 0.02 <= times["twice"][0] < 0.05
