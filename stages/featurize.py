"""featurize stage: prepared tables -> one feature row per client, for training and for application_test.

The feature files are written only once they pass the leakage audit (`credit_scoring.featurization`).
"""

from __future__ import annotations

from credit_scoring.featurization import featurize
from credit_scoring.io import write_json
from credit_scoring.params import load_params
from credit_scoring.paths import FEATURES, PREPARED, metrics, table


def main() -> None:
    settings = load_params()["featurize"]
    write_json(metrics("featurize"), featurize(PREPARED, FEATURES, table("leakage_audit"), settings))


if __name__ == "__main__":
    main()
