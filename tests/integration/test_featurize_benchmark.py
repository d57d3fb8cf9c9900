"""benchmarks/featurize_full.py runs our feature build and the shared pandas recipe on the same raw files."""

from __future__ import annotations

import pandas as pd
import pytest

from credit_scoring.features.history_specs import feature_columns
from tests.unit.features.test_featurize_stage import REPO


@pytest.mark.skipif(not (REPO.parent / "shared/benchmarks/pandas_reference_features.py").is_file(),
                    reason="the shared pandas reference recipe is not at ../shared/benchmarks")
def test_benchmark_runs_both_sides_on_the_same_raw_files(tmp_path, capsys):
    """A tiny volume through the whole benchmark: generated CSVs, `dvc repro --force featurize` in a scratch
    project, the reference recipe, and the report with its targets."""
    from benchmarks import featurize_full as bench

    result = bench.run_volume(tmp_path, 300, 60, 3, bench.REFERENCE)
    assert result["pipeline"]["features"] == len(feature_columns())
    assert result["pipeline"]["stages"]["prepare"] > 0 and result["pipeline"]["stages"]["featurize"] > 0
    reference = pd.read_parquet(tmp_path / "reference.parquet")
    assert reference.shape[0] == 360 and result["reference"]["columns"] == reference.shape[1]
    assert result["speedup"] == pytest.approx(result["reference"]["seconds"] / result["pipeline"]["seconds"], abs=0.01)
    assert bench.report([result]) == (result["pipeline"]["peak_rss_gb"] <= bench.PEAK_RSS_GB)
    assert "speed-up (reference / pipeline)" in capsys.readouterr().out
