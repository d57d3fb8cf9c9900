"""Progress lines of the long stages: counted steps, uncounted notes, elapsed time and the estimate of what is left;
and the tune stage's line per finished trial."""

from __future__ import annotations

import io
import json
import os
import re

import optuna
import pandas as pd
import pytest

from credit_scoring.progress import Progress, duration


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


def test_the_tune_stage_prints_a_line_per_finished_trial_and_final_fold(tmp_path, monkeypatch, capsys):
    from stages import tune
    from tests.test_tune_workers import small_project

    params = small_project(tmp_path, f"sqlite:///{tmp_path / 'optuna.db'}", 3)
    params["tune"].update(coarse_trials=3, challenger_coarse_trials=2, coarse_sample=1.0, tpe_startup_trials=1,
                          pruner_startup_trials=1)
    (tmp_path / "params.yaml").write_text(json.dumps(params))
    (tmp_path / "reports" / "metrics").mkdir(parents=True)
    (tmp_path / "reports" / "metrics" / "baseline.json").write_text(json.dumps({"best_cv_cost_per_client": 1.0}))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    tune.main([])
    out = capsys.readouterr().out
    trials = pd.read_csv(tmp_path / "reports" / "tables" / "tune_trials.csv")
    lines = re.findall(r"^  \[tune (\d+)/(\d+)\] (coarse|refined) (\S+) trial (\d+) (.*)$", out, re.MULTILINE)
    assert len(lines) == len(trials) == 3 + 2 + 3  # every trial, finished or pruned, has its line
    said = {(phase, algorithm, int(number)) for _, _, phase, algorithm, number, _ in lines}
    assert said == set(zip(trials["phase"], trials["algorithm"], trials["number"], strict=True))
    for (_, _, phase, algorithm, number, how), state in zip(lines, trials["state"], strict=True):
        assert ("pruned" in how) == (state == "PRUNED"), (phase, algorithm, number, how)
    folds = re.findall(r"^  \[tune (\d+)/(\d+)\] refined \S+ fold (\d)/3: (\d+) rounds", out, re.MULTILINE)
    assert [int(f[2]) for f in folds[-3:]] == [1, 2, 3]  # the final model's folds close the count
    assert folds[-1][0] == folds[-1][1] == str(3 + 2 + 3 + 3)
    assert all("elapsed" in line for line in out.splitlines() if line.startswith("  [tune"))
    best = json.loads((tmp_path / "models" / "tuned" / "best.json").read_text())
    assert best["params"]["learning_rate"] == params["tune"]["final_learning_rate"]
    assert int(best["rounds"]) >= 1


@pytest.mark.skipif(os.name != "posix", reason="the stage runs as on Linux")
def test_progress_lines_reach_a_pipe_at_once(tmp_path):
    """dvc repro reads the stage through a pipe: each line is flushed as it is printed, not at the end."""
    import subprocess
    import sys

    script = ("import time\nfrom credit_scoring.progress import Progress\np = Progress('x', 2)\np.step('one')\n"
              "time.sleep(30)\n")
    child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True,
                             cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    try:
        first = child.stdout.readline()  # blocks until the line arrives; the child then sleeps for 30 s
        assert first.startswith("  [x 1/2] one")
        assert child.poll() is None  # read while the child still runs: flushed, not buffered to the end
    finally:
        child.kill()
        child.wait()
