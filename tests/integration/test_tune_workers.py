"""Two `python -m stages.tune --worker` processes share one refined study on PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import optuna
import pandas as pd
import pytest
import yaml

from credit_scoring.modeling.tuning import fresh_study

REPO = Path(__file__).resolve().parents[2]


def small_project(root: Path, storage: str, n_trials: int) -> dict:
    rng = np.random.default_rng(0)
    n = 1200
    x = rng.normal(size=(n, 4))
    frame = pd.DataFrame(x, columns=[f"F{i}" for i in range(4)])
    frame.insert(0, "SK_ID_CURR", np.arange(100_000, 100_000 + n))
    frame.insert(1, "TARGET", (rng.random(n) < 1 / (1 + np.exp(2.4 - 1.4 * x[:, 0]))).astype(int))
    (root / "data" / "features").mkdir(parents=True)
    (root / "data" / "prepared").mkdir(parents=True)
    frame.to_parquet(root / "data" / "features" / "train.parquet")
    split = frame[["SK_ID_CURR", "TARGET"]].assign(holdout=lambda d: d["SK_ID_CURR"] % 5 == 0)
    split.to_parquet(root / "data" / "prepared" / "split.parquet")
    params = yaml.safe_load((REPO / "params.yaml").read_text())
    params["cv"]["folds"] = 3
    params["tune"].update(storage=storage, n_trials=n_trials, max_rounds=60, early_stopping_rounds=10)
    (root / "params.yaml").write_text(yaml.safe_dump(params))
    return params


@pytest.mark.postgres
def test_two_workers_share_one_study_on_postgresql(tmp_path, postgres_url):
    n_trials = 6
    params = small_project(tmp_path, postgres_url, n_trials)
    cfg = params["tune"]
    study = fresh_study(postgres_url, f"{cfg['study_name']}-refined", params["seed"], cfg)
    study.set_user_attr("algorithm", "lightgbm")
    study.set_user_attr("space", {"num_leaves": ["int", 4, 16], "min_child_samples": ["int", 10, 40]})
    env = {**os.environ, "PYTHONPATH": str(REPO), "MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path / 'mlflow.db'}"}
    # The tracking store exists before workers join (as the orchestrating run creates it); two processes
    # creating a fresh SQLite store at the same instant would race on its schema migration.
    script = "from credit_scoring.common.tracking import start_tracking; start_tracking()"
    subprocess.run([sys.executable, "-c", script], cwd=tmp_path, env=env, check=True)
    workers = [subprocess.Popen([sys.executable, "-m", "stages.tune", "--worker", "--wait", "60"], cwd=tmp_path,
                                env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [w.communicate(timeout=600) for w in workers]
    for worker, (_out, err) in zip(workers, outputs):
        assert worker.returncode == 0, err[-2000:]
    ran = [int(out.split("worker ran ")[1].split()[0]) for out, _ in outputs]
    finished = [t for t in optuna.load_study(study_name=study.study_name, storage=postgres_url).trials
                if t.state.is_finished()]
    assert sum(ran) == len(finished)
    assert n_trials <= len(finished) <= n_trials + 1  # both may be mid-trial when the count is reached
    assert all(r >= 1 for r in ran), ran  # both machines really took part
    assert len({t.number for t in finished}) == len(finished)


def test_a_worker_without_a_study_gives_up_with_a_clear_message(tmp_path):
    small_project(tmp_path, f"sqlite:///{tmp_path / 'optuna.db'}", 2)
    env = {**os.environ, "PYTHONPATH": str(REPO), "MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path / 'mlflow.db'}"}
    result = subprocess.run([sys.executable, "-m", "stages.tune", "--worker", "--wait", "1"], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode != 0
    assert "no study 'home-credit-scoring-refined'" in result.stderr
