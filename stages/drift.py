"""Drift stage: do the clients of application_test look like those of application_train, as the model sees them?

A model is only as good as the resemblance between the clients it learnt from and the clients it scores. This
stage compares, test file (current) against training file (reference), with evidently's report and with our PSI
(``credit_scoring.governance.drift``): every application column of the raw tables; the champion's most influential
features by mean |SHAP| (``models/explain``, ``drift.watched_features`` of them), engineered history aggregates
included,
on the feature rows of the same clients (``data/features``); and the champion's score itself, the holdout of the
training clients (which the model never saw) against the test clients. It writes what the methodological note
quotes: three HTML reports, a per-column table, and a summary whose French conclusion says what drifts, how
strongly, and what it means for the model. Reads params.yaml ``seed`` and ``drift``.
"""

from __future__ import annotations

import time

import pandas as pd

from credit_scoring.common import paths
from credit_scoring.common.io import write_json
from credit_scoring.common.params import load_params
from credit_scoring.explain.local import load_explain_config
from credit_scoring.features.application import KEY
from credit_scoring.governance.drift import DriftInputs, analyse
from credit_scoring.governance.stability import DriftSettings, watched_features
from credit_scoring.modeling.bundle import load_bundle

REPORTS = {  # evidently's snapshot -> its HTML report
    "all": paths.DRIFT_REPORT / "data_drift.html",
    "watched": paths.DRIFT_REPORT / "data_drift_watched_features.html",
    "score": paths.DRIFT_REPORT / "score_drift.html",
}


def read_inputs(settings: DriftSettings) -> DriftInputs:
    """The raw tables, the watched features of every client of both feature files, and the champion's scores of
    the training holdout and of the test clients (``Bundle.probability``, the path the API's batch scoring takes).
    The explain folder must describe the served champion (``load_explain_config`` refuses another's)."""
    bundle = load_bundle(paths.CHAMPION)
    watched = watched_features(load_explain_config(paths.EXPLAIN, bundle).global_importance,
                               settings.watched_features)
    split = pd.read_parquet(paths.SPLIT)
    holdout = split.loc[split["holdout"].astype(bool), KEY].tolist()
    train_holdout = pd.read_parquet(paths.FEATURES_TRAIN, filters=[(KEY, "in", holdout)])
    test = pd.read_parquet(paths.FEATURES_TEST)
    if len(train_holdout) != len(holdout):
        raise ValueError(f"{paths.FEATURES_TRAIN} holds {len(train_holdout)} of the {len(holdout)} holdout clients "
                         f"of {paths.SPLIT}: rerun the pipeline")
    return DriftInputs(
        applications=(pd.read_parquet(paths.APPLICATION_TRAIN), pd.read_parquet(paths.APPLICATION_TEST)),
        features=(pd.read_parquet(paths.FEATURES_TRAIN, columns=watched), test[watched]),
        scores=(bundle.probability(train_holdout), bundle.probability(test)),
        watched=watched,
        threshold=bundle.threshold,
    )


def main() -> None:
    params = load_params()
    settings = DriftSettings.from_params(params)
    started = time.perf_counter()
    table, summary, snapshots = analyse(read_inputs(settings), settings, params["seed"])
    paths.DRIFT_REPORT.mkdir(parents=True, exist_ok=True)
    for name, report in REPORTS.items():
        snapshots[name].save_html(str(report))
    psi_table = paths.table("drift_psi")
    psi_table.parent.mkdir(parents=True, exist_ok=True)
    table.sort_values(["scope", "psi"], ascending=[True, False]).to_csv(psi_table, index=False)
    write_json(paths.metrics("drift"), {**summary, "seconds": round(time.perf_counter() - started, 2)})
    scope, watched = summary["all_columns"], summary["watched_features"]
    print(f"drift: {scope['drifted_columns']} of {scope['columns']} application columns and "
          f"{watched['drifted_columns']} of {watched['columns']} watched features drift, score drift "
          f"{summary['score']['drifted']}; {summary['conclusion_fr']}")


if __name__ == "__main__":
    main()
