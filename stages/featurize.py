"""featurize stage: prepared tables -> one feature row per client, for training and for application_test.

The feature files are written only once they pass the leakage audit (`credit_scoring.features.files`).
"""

from __future__ import annotations

import os

from credit_scoring.common.io import write_json
from credit_scoring.common.params import load_params
from credit_scoring.common.paths import FEATURES, PREPARED, metrics, table


def configure_numpy(settings: dict) -> None:
    """``featurize.numpy_hugepages: false`` turns NumPy's transparent huge pages off, through the variable NumPy
    reads once, when it is first imported: so before the stage imports it (`python -m stages.featurize` is a
    fresh process). A value already in the environment wins."""
    if not settings["numpy_hugepages"]:
        os.environ.setdefault("NUMPY_MADVISE_HUGEPAGE", "0")


def main() -> None:
    params = load_params()
    settings = params["featurize"]
    configure_numpy(settings)
    from credit_scoring.features.files import featurize  # NumPy is imported here, after configure_numpy

    write_json(metrics("featurize"), featurize(PREPARED, FEATURES, table("leakage_audit"), settings, params["seed"]))


if __name__ == "__main__":
    main()
