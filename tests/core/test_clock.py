"""The clock tests move: in this process, and in another one through the offset file."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime, timedelta

import pytest

from core import clock
from tests.helpers import ROOT

pytestmark = pytest.mark.usefixtures("clock_back")


def test_the_clock_travels_and_comes_back():
    before = clock.now()
    with clock.travel(timedelta(days=2)):
        moved = clock.now()
        assert timedelta(days=2) <= moved - before < timedelta(days=2, seconds=5)
        with clock.travel(timedelta(hours=1)):
            assert clock.now() - before >= timedelta(days=2, hours=1)
        assert clock.now() - before < timedelta(days=2, minutes=1)
    assert clock.now() - before < timedelta(seconds=5)


def test_another_process_sees_the_clock_moved_through_the_offset_file(tmp_path, monkeypatch):
    monkeypatch.setenv(clock.OFFSET_FILE_VARIABLE, str(tmp_path / "offset"))
    code = "import django; django.setup(); from core import clock; print(clock.now().isoformat())"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings"}

    def their_now() -> datetime:
        out = subprocess.run(
            [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, check=True, text=True
        )
        return datetime.fromisoformat(out.stdout.strip())

    with clock.travel(timedelta(days=3)):
        assert (tmp_path / "offset").read_text().strip() == "259200.000000"
        ours = clock.now()
        assert abs(their_now() - ours) < timedelta(seconds=30)
    assert abs(their_now() - clock.now()) < timedelta(seconds=30)
    assert (tmp_path / "offset").read_text().strip() == "0.000000"
