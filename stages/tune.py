"""tune stage: Optuna over LightGBM and a second non-linear model, judged on the business cost
(`credit_scoring.modeling.tuning`); or, with ``--worker``, join the refined search another machine started.

Outputs: ``models/tuned/`` (the chosen algorithm, parameters and rounds, and its out-of-fold predictions for the
threshold stage), ``reports/tables/tune_trials.csv`` and ``reports/metrics/tune.json``.
"""

from __future__ import annotations

import argparse
import time

import mlflow
import optuna

from credit_scoring.common.io import write_json
from credit_scoring.common.params import load_params
from credit_scoring.common.paths import TUNED, metrics, table
from credit_scoring.common.progress import Progress
from credit_scoring.common.report_tables import write_table
from credit_scoring.common.tracking import start_tracking
from credit_scoring.modeling.training import load_training, stratified_folds
from credit_scoring.modeling.tuning import (
    Search,
    against_baseline,
    final_out_of_fold,
    planned_steps,
    run_search,
    run_worker,
    write_tuned,
)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Tune the non-linear models (DVC stage), or join as a worker.")
    parser.add_argument("--worker", action="store_true", help="join the refined study in tune.storage")
    parser.add_argument("--wait", type=float, default=600, help="worker: seconds to wait for the study")
    args = parser.parse_args(argv)
    params = load_params()
    search = Search.from_params(params)
    started = time.perf_counter()
    data = load_training(exclude_protected=params["features"]["exclude_protected"])
    folds = stratified_folds(data.y, params["cv"]["folds"], params["seed"])
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    start_tracking()
    if args.worker:
        with mlflow.start_run(run_name="tune-worker"):
            print(f"worker ran {run_worker(data, folds, search, args.wait)} trials")
        return
    with mlflow.start_run(run_name="tune"):
        mlflow.set_tag("stage", "tune")
        progress = Progress("tune", planned_steps(search.tune, len(folds)))
        result, trials, cv = run_search(data, folds, search, progress)
        result, oof = final_out_of_fold(cv, result, progress)
        result = against_baseline(result, metrics("baseline"))
        mlflow.log_params({f"best_{k}": v for k, v in result["params"].items()} | {"algorithm": result["algorithm"]})
        mlflow.log_metrics({"best_cv_cost_per_client": result["cv_cost_per_client"], "best_cv_auc": result["cv_auc"]})
        write_tuned(TUNED, result, oof)
        mlflow.log_artifact(str(write_table(table("tune_trials"), trials)))
    write_json(metrics("tune"), {**result, "seconds": round(time.perf_counter() - started, 1)})


if __name__ == "__main__":
    main()
