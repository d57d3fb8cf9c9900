"""explain_report stage: what drives the champion's scores, for the note, and a glass-box model beside it.

- SHAP on the holdout (`credit_scoring.explain.overall`): mean |SHAP| per feature (table and bar chart), a
  beeswarm of the top features, dependence plots of the top 4, and the waterfall of one refused and one
  granted client (the median probability of each decision, so neither is an extreme case).
- An Explainable Boosting Machine (interpret) on the top K features by mean |SHAP|, its threshold chosen on
  out-of-fold predictions of the training part, beside the champion on the holdout; shape functions of its
  top 4 terms, and paired bootstrap intervals of the EBM against the champion on the holdout.
"""

from __future__ import annotations

import json
import time

from credit_scoring.common import paths
from credit_scoring.common.io import write_json
from credit_scoring.common.params import load_params
from credit_scoring.common.report_tables import write_table
from credit_scoring.explain.figures import ebm_shape_figures, shap_figures, waterfall_figures
from credit_scoring.explain.overall import (
    check_features,
    comparison_table,
    ebm_comparison,
    ebm_features,
    ebm_intervals,
    ebm_metrics,
    family_importance,
    holdout_shap,
    model_labels,
    shap_metrics,
)
from credit_scoring.features.families import families
from credit_scoring.modeling.bundle import load_bundle
from credit_scoring.modeling.training import load_training


def main() -> None:
    params = load_params()
    settings, ebm_settings, seed = params["explain"], params["explain"]["ebm"], params["seed"]
    started = time.perf_counter()
    bundle = load_bundle(paths.CHAMPION)
    champion = json.loads(paths.metrics("threshold").read_text())
    data = load_training(exclude_protected=params["features"]["exclude_protected"])
    check_features(bundle, data)
    labels = model_labels(bundle, paths.COLUMNS_DESCRIPTION)
    shap = holdout_shap(bundle, data, labels, settings["shap_max_rows"], seed)
    write_table(paths.table("shap_importance"), shap.importance)
    family_map = families(bundle.features)
    write_table(paths.table("shap_family_importance"), family_importance(shap.contributions, family_map))
    dependence = shap_figures(shap, labels, settings["top_features"], settings["beeswarm_points"], seed)
    waterfalls = waterfall_figures(bundle, shap, labels, data.ids_holdout, family_map)

    features = ebm_features(shap.importance, ebm_settings["top_features"])
    ebm = ebm_comparison(data, features, ebm_settings, params["cost"], seed)
    write_table(paths.table("ebm_vs_champion"), comparison_table(ebm, champion, len(bundle.features),
                                                                 bundle.info["algorithm"], ebm_settings["cv_folds"]))
    shapes = ebm_shape_figures(ebm["model"], labels)
    intervals = ebm_intervals(data.y_holdout, ebm, bundle.probability(data.X_holdout), bundle.threshold,
                              params["cost"], params["threshold"]["bootstrap"], seed)
    write_json(paths.metrics("explain"), {
        **shap_metrics(bundle, shap, settings["top_features"], dependence, waterfalls),
        **ebm_metrics(features, shapes, ebm, champion),
        "ebm_intervals": intervals,
        "shap_seconds": round(shap.seconds, 1),
        "ebm_seconds": round(ebm["seconds"], 1),
        "seconds": round(time.perf_counter() - started, 1),
    })


if __name__ == "__main__":
    main()
