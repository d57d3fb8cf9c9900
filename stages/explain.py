"""explain stage: what the API needs beside the champion to explain a score, in ``models/explain/``.

The French labels of the model's features, the reason-code settings, the base value and the global importance
of the features (mean |SHAP| on the holdout, `credit_scoring.explain.overall`). The champion folder belongs to
the threshold stage; the figures and the EBM comparison to the explain_report stage.
"""

from __future__ import annotations

from credit_scoring.common.params import load_params
from credit_scoring.common.paths import CHAMPION, COLUMNS_DESCRIPTION, EXPLAIN
from credit_scoring.explain.local import write_explain_config
from credit_scoring.explain.overall import check_features, explain_config, holdout_shap, model_labels
from credit_scoring.modeling.bundle import load_bundle
from credit_scoring.modeling.training import load_training


def main() -> None:
    params = load_params()
    settings = params["explain"]
    bundle = load_bundle(CHAMPION)
    data = load_training(exclude_protected=params["features"]["exclude_protected"])
    check_features(bundle, data)
    labels = model_labels(bundle, COLUMNS_DESCRIPTION)
    shap = holdout_shap(bundle, data, labels, settings["shap_max_rows"], params["seed"])
    write_explain_config(explain_config(bundle, shap, labels, settings), EXPLAIN)


if __name__ == "__main__":
    main()
