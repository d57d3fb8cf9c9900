"""baseline stage: the simplest models (`credit_scoring.baselines`), under the same cross-validation as the tuned
ones, each crossed with the usual answers to class imbalance; one MLflow run each."""

from __future__ import annotations

import time

import mlflow

from credit_scoring.baselines import log_to_mlflow, run_baselines, summary
from credit_scoring.io import write_json
from credit_scoring.modeling import load_training, stratified_folds
from credit_scoring.params import load_params
from credit_scoring.paths import metrics, table
from credit_scoring.reports import write_table
from credit_scoring.tracking import start_tracking


def main() -> None:
    params = load_params()
    settings, seed, n_folds = params["baseline"], params["seed"], params["cv"]["folds"]
    started = time.perf_counter()
    data = load_training(exclude_protected=params["features"]["exclude_protected"])
    folds = stratified_folds(data.y, n_folds, seed)
    start_tracking()
    with mlflow.start_run(run_name="baseline"):
        mlflow.set_tag("stage", "baseline")
        runs = run_baselines(data, folds, settings, params["cost"], seed, lambda row: log_to_mlflow(row, n_folds))
        result = summary(runs)
        mlflow.log_metrics({"best_cv_cost_per_client": result["best_cv_cost_per_client"],
                            "best_cv_auc": result["best_cv_auc"]})
    write_table(table("baseline"), runs)
    write_json(metrics("baseline"), {**result, "seconds": round(time.perf_counter() - started, 1)})


if __name__ == "__main__":
    main()
