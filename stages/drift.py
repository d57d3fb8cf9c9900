"""Drift stage: do the clients of application_test look like those of application_train?

A model is only as good as the resemblance between the clients it learnt from and the clients it scores. This
stage compares every application column of the test file (current) with the training file (reference), and then
the model's most important features alone, with evidently's report and with our PSI (``credit_scoring.drift``),
and writes what the methodological note quotes: the two HTML reports, a per-column table, and a summary whose
French conclusion says which columns drift, how strongly, and what it means for the model. Reads params.yaml
``seed`` and ``drift``.
"""

from __future__ import annotations

import time

import pandas as pd

from credit_scoring import paths
from credit_scoring.drift import DriftSettings, analyse
from credit_scoring.io import write_json
from credit_scoring.params import load_params

ALL_COLUMNS_REPORT = paths.DRIFT_REPORT / "data_drift.html"
TOP_FEATURES_REPORT = paths.DRIFT_REPORT / "data_drift_top_features.html"


def main() -> None:
    params = load_params()
    settings = DriftSettings.from_params(params)
    started = time.perf_counter()
    reference = pd.read_parquet(paths.APPLICATION_TRAIN)
    current = pd.read_parquet(paths.APPLICATION_TEST)
    table, summary, all_snapshot, top_snapshot = analyse(reference, current, settings, params["seed"])
    paths.DRIFT_REPORT.mkdir(parents=True, exist_ok=True)
    all_snapshot.save_html(str(ALL_COLUMNS_REPORT))
    top_snapshot.save_html(str(TOP_FEATURES_REPORT))
    psi_table = paths.table("drift_psi")
    psi_table.parent.mkdir(parents=True, exist_ok=True)
    table.sort_values("psi", ascending=False).to_csv(psi_table, index=False)
    write_json(paths.metrics("drift"), {**summary, "seconds": round(time.perf_counter() - started, 2)})
    scope = summary["all_columns"]
    print(f"drift: {scope['drifted_columns']} of {scope['columns']} columns drift; {summary['conclusion_fr']}")


if __name__ == "__main__":
    main()
