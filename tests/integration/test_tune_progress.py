"""The tune stage, run on a small project, prints a line per finished trial and final fold."""

from __future__ import annotations

import json
import re

import optuna
import pandas as pd


def test_the_tune_stage_prints_a_line_per_finished_trial_and_final_fold(tmp_path, monkeypatch, capsys):
    from stages import tune
    from tests.integration.test_tune_workers import small_project

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
