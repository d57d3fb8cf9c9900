"""Drift stage: do the clients of application_test look like those of application_train?

A model is only as good as the resemblance between the clients it learnt from and the clients it scores. This
stage compares every application column of the test file (current) with the training file (reference), and then
the model's most important features alone, with evidently's report and with our PSI, and writes what the
methodological note quotes: the two HTML reports, a per-column table, and a summary whose French conclusion says
which columns drift, how strongly, and what it means for the model.
"""

from __future__ import annotations

import time
from pathlib import Path

import pandas as pd

from credit_scoring.drift import (
    DriftSettings,
    compare,
    conclusion_fr,
    feature_records,
    scope_summary,
    without_sentinels,
)
from credit_scoring.io import write_json
from credit_scoring.params import load_params

PREPARED_DIR = Path("data/prepared")
REPORT_DIR = Path("reports/drift")
ALL_COLUMNS_REPORT = REPORT_DIR / "data_drift.html"
TOP_FEATURES_REPORT = REPORT_DIR / "data_drift_top_features.html"
PSI_TABLE = Path("reports/tables/drift_psi.csv")
METRICS_FILE = Path("reports/metrics/drift.json")
NOT_COMPARED = ("SK_ID_CURR", "TARGET")  # an id and the label: neither is an input of the model


def application_columns(reference: pd.DataFrame, current: pd.DataFrame) -> list[str]:
    """The columns both files share, in Kaggle's order, less the id and the target."""
    return [c for c in reference.columns if c in current.columns and c not in NOT_COMPARED]


def checked_top_features(settings: DriftSettings, columns: list[str]) -> list[str]:
    """The top features must be application columns: a misspelt or engineered name would silently shrink the
    scope the note reports on."""
    unknown = [f for f in settings.top_features if f not in columns]
    if unknown:
        raise ValueError(f"params.yaml drift.top_features: not application columns: {', '.join(unknown)}")
    return list(settings.top_features)


def analyse(reference: pd.DataFrame, current: pd.DataFrame, settings: DriftSettings, seed: int):
    """The per-column table, the summary, and evidently's snapshots for both scopes (all columns, top features)."""
    reference, current = without_sentinels(reference), without_sentinels(current)
    columns = application_columns(reference, current)
    top = checked_top_features(settings, columns)
    table, all_snapshot = compare(reference, current, columns, settings, seed)
    top_table, top_snapshot = compare(reference, current, top, settings, seed)
    table.insert(2, "top_feature", table["feature"].isin(top))
    evidently_rows = min(len(reference), settings.sample_size), min(len(current), settings.sample_size)
    summary = {
        "reference": "application_train",
        "current": "application_test",
        "rows": {"reference": len(reference), "current": len(current)},
        "rows_compared_by_evidently": {"reference": evidently_rows[0], "current": evidently_rows[1]},
        "settings": {
            "stattest": settings.stattest,
            "stattest_threshold": settings.stattest_threshold,
            "psi_bins": settings.psi_bins,
            "psi_threshold": settings.psi_threshold,
            "sample_size": settings.sample_size,
        },
        "all_columns": scope_summary(table),
        "top_features": {**scope_summary(top_table), "features": top},
        "features": feature_records(table),
        "conclusion_fr": conclusion_fr(table, top, reference, current, settings),
    }
    return table, summary, all_snapshot, top_snapshot


def main() -> None:
    params = load_params()
    settings = DriftSettings.from_params(params)
    started = time.perf_counter()
    reference = pd.read_parquet(PREPARED_DIR / "application_train.parquet")
    current = pd.read_parquet(PREPARED_DIR / "application_test.parquet")
    table, summary, all_snapshot, top_snapshot = analyse(reference, current, settings, params["seed"])
    REPORT_DIR.mkdir(parents=True, exist_ok=True)
    all_snapshot.save_html(str(ALL_COLUMNS_REPORT))
    top_snapshot.save_html(str(TOP_FEATURES_REPORT))
    PSI_TABLE.parent.mkdir(parents=True, exist_ok=True)
    table.sort_values("psi", ascending=False).to_csv(PSI_TABLE, index=False)
    write_json(METRICS_FILE, {**summary, "seconds": round(time.perf_counter() - started, 2)})
    scope = summary["all_columns"]
    print(f"drift: {scope['drifted_columns']} of {scope['columns']} columns drift; {summary['conclusion_fr']}")


if __name__ == "__main__":
    main()
