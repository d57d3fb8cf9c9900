"""A researcher's fresh clone: `dvc repro` must give back the whole comparison in MLflow, the baselines included.

The baseline stage keeps its out-of-fold probabilities in DVC's cache (``models/baseline``), not in git, so a
clone without the cache runs it again instead of skipping it on its committed tables. The test makes a tiny
project with git and DVC, runs `dvc repro baseline`, commits, clones it and runs `dvc repro baseline` in the
clone with a new MLflow store: the baselines must be there, each with its metrics and figure.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sysconfig
from pathlib import Path

import mlflow
import yaml

from tests.integration.test_pipeline import tiny_params

REPO = Path(__file__).resolve().parents[2]
DVC = Path(sysconfig.get_path("scripts")) / "dvc"
GIT_IDENTITY = {"GIT_AUTHOR_NAME": "test", "GIT_AUTHOR_EMAIL": "test@example.org", "GIT_COMMITTER_NAME": "test",
                "GIT_COMMITTER_EMAIL": "test@example.org"}


def run(args: list[str], cwd: Path, **env: str) -> str:
    done = subprocess.run(args, cwd=cwd, env={**os.environ, **GIT_IDENTITY, **env}, capture_output=True, text=True,
                          timeout=900)
    assert done.returncode == 0, f"{' '.join(args)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout + done.stderr


def tiny_project(root: Path) -> Path:
    """The pipeline's code, dvc.yaml and tiny params.yaml in a new git and DVC repository."""
    root.mkdir()
    for folder in ("credit_scoring", "stages"):
        shutil.copytree(REPO / folder, root / folder, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("dvc.yaml", ".gitignore", ".dvcignore"):
        shutil.copy(REPO / name, root / name)
    (root / "params.yaml").write_text(yaml.safe_dump(tiny_params(source="synthetic")))
    run(["git", "init", "-q"], root)
    run([str(DVC), "init", "-q"], root)
    run(["git", "add", "-A"], root)
    run(["git", "commit", "-q", "-m", "tiny project"], root)
    return root


def baseline_runs(tracking_uri: str) -> list:
    mlflow.set_tracking_uri(tracking_uri)
    runs = mlflow.search_runs(search_all_experiments=True, filter_string="tags.stage = 'baseline'",
                              output_format="list")
    return [r for r in runs if "model" in r.data.tags]  # the nested run of each model, not the stage's parent run


def test_a_fresh_clone_reruns_the_baselines_into_mlflow(tmp_path):
    origin = tiny_project(tmp_path / "origin")
    run([str(DVC), "repro", "baseline"], origin, MLFLOW_TRACKING_URI=f"sqlite:///{tmp_path / 'origin.db'}")
    run(["git", "add", "-A"], origin)
    run(["git", "commit", "-q", "-m", "outputs"], origin)
    assert (origin / "reports/tables/baseline.csv").is_file() and (origin / "models/baseline/oof.parquet").is_file()

    clone = tmp_path / "clone"
    run(["git", "clone", "-q", str(origin), str(clone)], tmp_path)
    assert not (clone / "models").exists() and (clone / "reports/tables/baseline.csv").is_file()
    uri = f"sqlite:///{tmp_path / 'clone.db'}"
    log = run([str(DVC), "repro", "baseline"], clone, MLFLOW_TRACKING_URI=uri)
    assert "Running stage 'baseline'" in log  # not skipped on the committed tables

    runs = baseline_runs(uri)
    expected = {f"{m}-{s}" for m in ("dummy_prior", "logistic_regression")
                for s in ("none", "class_weight", "undersample", "smote")}
    assert {r.info.run_name for r in runs} == expected
    client = mlflow.MlflowClient(uri)
    for r in runs:
        assert {"cv_auc", "cv_cost_per_client", "cv_threshold"} <= set(r.data.metrics)
        assert {"model", "imbalance_strategy", "cv_folds"} <= set(r.data.params)
        assert [a.path for a in client.list_artifacts(r.info.run_id, "figures")] == ["figures/cost_threshold.png"]
