"""fairness stage: does the champion decide alike for women and men, for young and old clients?

The holdout clients, decided at the champion threshold, compared by group (`credit_scoring.governance.fairness`):
approval rate, false-refusal rate and recall, and the disparate-impact ratio against the four-fifths rule.
"""

from __future__ import annotations

import json

import pandas as pd

from credit_scoring.common import paths
from credit_scoring.common.io import write_json
from credit_scoring.common.params import load_params
from credit_scoring.common.report_tables import write_table
from credit_scoring.governance.fairness import (
    KEY,
    TARGET,
    audit_groups,
    check_setting,
    decided_holdout,
    fairness_figure,
    fairness_metrics,
    fairness_table,
)
from credit_scoring.modeling.bundle import BUNDLE_FILE


def main() -> None:
    params = load_params()
    settings = params["fairness"]
    exclude_protected = list(params["features"]["exclude_protected"])
    bundle = json.loads((paths.CHAMPION / BUNDLE_FILE).read_text())
    check_setting(bundle, exclude_protected)
    scores = pd.read_parquet(paths.REFERENCE_SCORES)
    application = pd.read_parquet(paths.APPLICATION_TRAIN, columns=[KEY, TARGET, "CODE_GENDER", "DAYS_BIRTH"])
    frame = decided_holdout(scores, application, bundle["threshold"])
    tables, summaries = audit_groups(frame, settings)
    write_table(paths.table("fairness"), fairness_table(tables))
    fairness_figure(tables, summaries, settings["four_fifths"])
    write_json(paths.metrics("fairness"), fairness_metrics(frame, bundle, settings, exclude_protected, summaries))


if __name__ == "__main__":
    main()
