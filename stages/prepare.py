"""Prepare stage: raw Home Credit CSVs -> validated, typed parquet tables and a stratified holdout split.

Reads params.yaml ``seed``, ``data`` (where the raw tables come from), ``split`` and ``prepare``; the work is
``credit_scoring.dataset.preparation`` over the checks of ``credit_scoring.dataset.validation``.
"""

from __future__ import annotations

import time

from credit_scoring.common import paths
from credit_scoring.common.io import write_json
from credit_scoring.common.params import load_params
from credit_scoring.dataset.preparation import prepare, raw_data


def main() -> None:
    params = load_params()
    started = time.perf_counter()
    with raw_data(params["data"], params["seed"]) as (raw_dir, truth_file):
        metrics = prepare(raw_dir, paths.PREPARED, params["split"]["holdout_size"], params["seed"], truth_file,
                          params["prepare"]["workers"], params["prepare"]["duckdb_memory_limit"])
    seconds = round(time.perf_counter() - started, 2)
    write_json(paths.metrics("prepare"), {"source": params["data"]["source"], **metrics, "seconds": seconds})


if __name__ == "__main__":
    main()
