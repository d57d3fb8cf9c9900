"""The threshold stage's MLflow run: the champion's parameters, metrics and artifacts logged, the model registered
under its alias (a temporary SQLite store)."""

from __future__ import annotations

import mlflow

from credit_scoring.common.tracking import CHAMPION_ALIAS, REGISTERED_MODEL, start_tracking
from credit_scoring.modeling.thresholds import log_champion
from tests.unit.modeling.test_thresholds import COSTS, small_training


def test_the_champion_run_logs_its_parameters_metrics_artifacts_and_registers_the_model(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    start_tracking()
    from sklearn.linear_model import LogisticRegression

    data = small_training()
    model = LogisticRegression().fit(data.X, data.y)
    (tmp_path / "plots").mkdir()
    figure, curve, table = tmp_path / "roc.png", tmp_path / "plots" / "roc.csv", tmp_path / "thresholds.csv"
    for path in (figure, curve, table):
        path.write_bytes(b"x")
    best = {"algorithm": "logistic_regression", "rounds": 0, "params": {"C": 0.5}}
    metrics = {"threshold": 0.12, "holdout_auc": 0.7, "holdout_cost_per_client": 0.5, "algorithm": "x",
               "variants": {"raw": {"auc": 0.69}}, "intervals": {"holdout_auc": [0.6, 0.8]}}
    version, run_id = log_champion(model, best, COSTS, metrics, [figure, curve, table], data.X)
    run = mlflow.get_run(run_id)
    assert run.info.run_name == "threshold"
    assert run.data.tags["stage"] == "threshold" and run.data.tags["algorithm"] == "logistic_regression"
    assert run.data.params == {"threshold": "0.12", "algorithm": "logistic_regression", "rounds": "0",
                               "model_C": "0.5", "cost_fn": "10", "cost_fp": "1"}
    assert run.data.metrics["threshold"] == 0.12 and run.data.metrics["holdout_auc"] == 0.7
    assert run.data.metrics["variant_raw_auc"] == 0.69 and "algorithm" not in run.data.metrics
    assert (run.data.metrics["holdout_auc_ci_low"], run.data.metrics["holdout_auc_ci_high"]) == (0.6, 0.8)
    client = mlflow.MlflowClient()
    logged = {a.path for folder in ("figures", "plots") for a in client.list_artifacts(run_id, folder)}
    logged |= {a.path for a in client.list_artifacts(run_id)}
    assert {"figures/roc.png", "plots/roc.csv", "thresholds.csv"} <= logged
    assert str(client.get_model_version_by_alias(REGISTERED_MODEL, CHAMPION_ALIAS).version) == version == "1"
    # a run without variants nor intervals (an older threshold.json) logs what it has and registers version 2
    plain = {k: v for k, v in metrics.items() if k not in ("variants", "intervals")}
    second, _ = log_champion(model, best, COSTS, plain, [], data.X)
    assert second == "2" and str(client.get_model_version_by_alias(REGISTERED_MODEL, CHAMPION_ALIAS).version) == "2"
