"""threshold stage: the decision threshold from the business cost, then the holdout scored once
(`credit_scoring.modeling.thresholds`).

The final model is refitted on the whole training part with the tuned number of rounds, then the holdout is
scored exactly once, beside the same configuration refitted without two of its design choices (sex excluded,
monotone amounts: `credit_scoring.modeling.variants`), and beside the best baseline refitted the same way. Intervals
(`credit_scoring.modeling.uncertainty`): a paired bootstrap of the holdout for both models and their difference, and
their spread over the shared cross-validation folds. The model is logged to MLflow with its signature and an input
example, registered as ``home-credit-scoring`` with the alias ``champion``, and exported to ``models/champion/`` for
the API.
"""

from __future__ import annotations

import json
import time

import pandas as pd

from credit_scoring.common import paths
from credit_scoring.common.io import write_json
from credit_scoring.common.params import load_params
from credit_scoring.common.progress import Progress
from credit_scoring.common.report_tables import write_table
from credit_scoring.common.tracking import start_tracking
from credit_scoring.modeling.bundle import write_bundle
from credit_scoring.modeling.cost import scores_at
from credit_scoring.modeling.dvc_plots import write_plot_data
from credit_scoring.modeling.figures import threshold_figures
from credit_scoring.modeling.thresholds import (
    COST,
    champion_info,
    check_oof_rows,
    holdout_metrics,
    log_champion,
    oracle_metrics,
    oracle_probabilities,
    plausibility_warnings,
    refit,
    threshold_table,
)
from credit_scoring.modeling.training import load_training, stratified_folds
from credit_scoring.modeling.tuning import read_tuned
from credit_scoring.modeling.uncertainty import Scored, cost_ratio_sensitivity, threshold_intervals
from credit_scoring.modeling.variants import best_baseline, variants_metrics, variants_table


def main() -> None:
    params = load_params()
    started = time.perf_counter()
    cost = params["cost"]
    best, oof = read_tuned(paths.TUNED)
    data = load_training(exclude_protected=params["features"]["exclude_protected"])
    check_oof_rows(oof, data, paths.TUNED, "tune")
    table = threshold_table(oof["TARGET"], oof["proba"], cost["fn"], cost["fp"])
    threshold = float(table.set_index("id").loc[COST, "valeur"])
    progress = Progress("threshold", 5)
    model = refit(best, data, params["seed"], params["estimator"])
    proba = model.predict_proba(data.X_holdout)[:, 1]  # the one and only look at the holdout
    progress.step(f"champion refitted ({best['rounds']} rounds) and the holdout scored")
    s = scores_at(data.y_holdout, proba, threshold, cost["fn"], cost["fp"])
    metrics = {**holdout_metrics(table, s, data.y_holdout, proba, best["algorithm"]),
               **oracle_metrics(paths.ORACLE, data, cost)}
    cv_auc = json.loads(paths.metrics("tune").read_text())["cv_auc"]
    metrics["warnings"] = plausibility_warnings(params["data"]["source"], cv_auc, s.auc,
                                                params["threshold"]["max_plausible_auc"])
    variants = variants_table(best, data, load_training(exclude_protected=[]), proba, threshold, params["seed"],
                              params)
    metrics["variants"] = variants_metrics(variants)
    progress.step("variants refitted (sex put back, no monotone constraints)")
    baseline_oof = pd.read_parquet(paths.BASELINE_OOF)
    check_oof_rows(baseline_oof, data, paths.BASELINE_OOF, "baseline")
    baseline = best_baseline(json.loads(paths.metrics("baseline").read_text()), baseline_oof, data,
                             params["baseline"], cost, params["seed"])
    progress.step(f"best baseline {baseline.name} refitted")
    champion = Scored(f"{best['algorithm']}/tuned", threshold, oof["proba"].to_numpy(), proba)
    metrics["intervals"] = threshold_intervals(champion, baseline, data.y, data.y_holdout,
                                               stratified_folds(data.y, params["cv"]["folds"], params["seed"]), cost,
                                               params["threshold"]["bootstrap"], params["seed"])
    progress.step(f"{params['threshold']['bootstrap']} bootstrap resamples of the holdout")
    sensitivity = cost_ratio_sensitivity(oof, data.y_holdout, proba, params["threshold"]["cost_ratios"])
    sensitivity_file = write_table(paths.table("cost_ratio_sensitivity"), sensitivity)
    table_file = write_table(paths.table("thresholds"), table)
    variants_file = write_table(paths.table("model_variants"), variants)
    figures = threshold_figures(oof, table, cost, data.y_holdout, proba,
                                oracle_probabilities(paths.ORACLE, data.ids_holdout), s, metrics["holdout_brier"],
                                sensitivity)
    curves = write_plot_data(oof, cost, data.y_holdout, proba)
    start_tracking()
    logged = [*figures, table_file, variants_file, sensitivity_file, *curves]
    version, run_id = log_champion(model, best, cost, metrics, logged, data.X_holdout)
    progress.step(f"figures written, champion registered as version {version}")
    reference_scores = pd.DataFrame({"SK_ID_CURR": data.ids_holdout, "probability": proba})
    write_bundle(paths.CHAMPION, model, champion_info(version, run_id, best, data.feature_names, metrics, params),
                 reference_scores)
    write_json(paths.metrics("threshold"), metrics)
    # apart, so that threshold.json is identical run to run
    write_json(paths.metrics("threshold_timing"), {"seconds": round(time.perf_counter() - started, 1),
                                                    "model_version": version})


if __name__ == "__main__":
    main()
