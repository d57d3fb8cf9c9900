"""baseline stage: the simplest models (`credit_scoring.modeling.baselines`), under the same cross-validation as the
tuned ones, each crossed with the usual answers to class imbalance; one MLflow run each, with its cost figure.

Their out-of-fold probabilities go to ``models/baseline/`` (DVC's cache, not git): a fresh clone has none, so
`dvc repro` runs the stage again and the MLflow experiment holds the baselines beside the tuning trials.
"""

from __future__ import annotations

import time

import mlflow

from credit_scoring.common.io import write_json
from credit_scoring.common.params import load_params
from credit_scoring.common.paths import BASELINE_OOF, metrics, table
from credit_scoring.common.report_tables import write_table
from credit_scoring.common.tracking import start_tracking
from credit_scoring.modeling.baselines import log_to_mlflow, run_baselines, summary
from credit_scoring.modeling.training import load_training, stratified_folds


def main() -> None:
    params = load_params()
    settings, seed, n_folds = params["baseline"], params["seed"], params["cv"]["folds"]
    started = time.perf_counter()
    data = load_training(exclude_protected=params["features"]["exclude_protected"])
    folds = stratified_folds(data.y, n_folds, seed)
    start_tracking()
    with mlflow.start_run(run_name="baseline"):
        mlflow.set_tag("stage", "baseline")
        runs, oof = run_baselines(data, folds, settings, params["cost"], seed,
                                  lambda row, proba: log_to_mlflow(row, proba, data.y, params["cost"], n_folds))
        result = summary(runs)
        mlflow.log_metrics({"best_cv_cost_per_client": result["best_cv_cost_per_client"],
                            "best_cv_auc": result["best_cv_auc"]})
    BASELINE_OOF.parent.mkdir(parents=True, exist_ok=True)
    oof.to_parquet(BASELINE_OOF, index=False)
    write_table(table("baseline"), runs)
    write_json(metrics("baseline"), result)
    # apart, so that baseline.json (which the tune stage depends on) is identical run to run
    write_json(metrics("baseline_timing"), {"seconds": round(time.perf_counter() - started, 1)})


if __name__ == "__main__":
    main()
