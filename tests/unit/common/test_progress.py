"""Progress lines of the long stages: counted steps, uncounted notes, elapsed time and the estimate of what is left;
and the tune stage's line per finished trial."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest

from credit_scoring.common.progress import Progress, duration


def test_durations_read_as_a_person_reads_them():
    assert [duration(s) for s in (0, 42.4, 60, 185, 3600, 3725)] == \
        ["0 s", "42 s", "1 min 00 s", "3 min 05 s", "1 h 00 min", "1 h 02 min"]


def test_each_step_says_how_far_and_what_is_left_from_the_mean_step():
    now = [100.0]
    out = io.StringIO()
    progress = Progress("tune", 4, stream=out, clock=lambda: now[0])
    now[0] = 130.0
    assert progress.step("trial 0 done") == "  [tune 1/4] trial 0 done (30 s elapsed, about 1 min 30 s left)"
    now[0] = 140.0
    progress.note("fold 1/4")  # said, not counted: the estimate stays on finished steps
    now[0] = 160.0
    progress.step("trial 1 pruned")
    now[0] = 250.0
    progress.step("trial 2 done")
    lines = out.getvalue().splitlines()
    assert lines[1] == "  [tune 1/4]   fold 1/4 (40 s elapsed, about 2 min 00 s left)"
    assert lines[2] == "  [tune 2/4] trial 1 pruned (1 min 00 s elapsed, about 1 min 00 s left)"
    assert lines[3] == "  [tune 3/4] trial 2 done (2 min 30 s elapsed, about 50 s left)"


def test_the_last_step_gives_no_estimate():
    progress = Progress("baseline", 1, stream=io.StringIO(), clock=lambda: 0.0)
    assert progress.step("done").endswith("(0 s elapsed)")




@pytest.mark.skipif(os.name != "posix", reason="the stage runs as on Linux")
def test_progress_lines_reach_a_pipe_at_once(tmp_path):
    """dvc repro reads the stage through a pipe: each line is flushed as it is printed, not at the end."""
    import subprocess
    import sys

    script = ("import time\nfrom credit_scoring.common.progress import Progress\np = Progress('x', 2)\np.step('one')\n"
              "time.sleep(30)\n")
    child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True,
                             cwd=Path(__file__).resolve().parents[3])
    try:
        first = child.stdout.readline()  # blocks until the line arrives; the child then sleeps for 30 s
        assert first.startswith("  [x 1/2] one")
        assert child.poll() is None  # read while the child still runs: flushed, not buffered to the end
    finally:
        child.kill()
        child.wait()
