"""The featurize stage end to end on generated rows and on the real sample, and its leakage audit."""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from credit_scoring.dataset.schema import TABLE_NAMES
from credit_scoring.features import files
from credit_scoring.features.application import application_features
from credit_scoring.features.history_specs import HISTORY_FLAGS, feature_columns
from stages import featurize
from tests.unit.features.test_features import load_table

REPO = Path(__file__).resolve().parents[3]
SETTINGS = yaml.safe_load((REPO / "params.yaml").read_text())["featurize"]


@pytest.fixture
def stage_dir(raw_source, tmp_path, monkeypatch):
    """A work tree holding params.yaml and data/prepared written from generated rows and from the real sample
    (`raw_source`: 8 tables, the sample's partly linked), with every fifth client in the holdout; the stage runs
    from there as `dvc repro` runs it."""
    prepared = tmp_path / "data/prepared"
    prepared.mkdir(parents=True)
    for name in TABLE_NAMES:
        load_table(raw_source, name).to_parquet(prepared / f"{name}.parquet", index=False)
    split = load_table(raw_source, "application_train")[["SK_ID_CURR", "TARGET"]]
    split["holdout"] = np.arange(len(split)) % 5 == 0
    split.to_parquet(prepared / "split.parquet", index=False)
    shutil.copy(REPO / "params.yaml", tmp_path / "params.yaml")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_stage_runs_end_to_end(stage_dir, raw_source):
    featurize.main()
    train = pd.read_parquet(stage_dir / "data/features/train.parquet")
    test = pd.read_parquet(stage_dir / "data/features/test.parquet")
    assert list(train.columns) == ["SK_ID_CURR", "TARGET", *feature_columns()]
    assert list(test.columns) == ["SK_ID_CURR", *feature_columns()]
    assert train["SK_ID_CURR"].tolist() == load_table(raw_source, "application_train")["SK_ID_CURR"].tolist()
    assert len(test) == len(load_table(raw_source, "application_test"))
    assert train[feature_columns()].dtypes.eq("float64").all()
    flags = list(HISTORY_FLAGS.values())
    assert train[flags].isin([0.0, 1.0]).all().all() and test[flags].isin([0.0, 1.0]).all().all()
    assert test["HAS_BUREAU"].sum() > 0  # linked clients (the sample's few) got their history

    audit = pd.read_csv(stage_dir / "reports/tables/leakage_audit.csv")
    assert sorted(audit["feature"]) == sorted(feature_columns())
    assert not audit["id_like"].any() and not audit["target_derived"].any()
    assert audit["auc"].between(0.5, 1).all()

    metrics = json.loads((stage_dir / "reports/metrics/featurize.json").read_text())
    assert metrics["clients_train"] == 1000 and metrics["features"] == len(feature_columns())
    assert set(metrics["history_share"]) == set(HISTORY_FLAGS) and metrics["seconds"] >= 0


def audit_frame(n: int = 2000) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(0)
    target = (rng.random(n) < 0.2).astype("int64")
    ids = rng.permutation(np.arange(100000, 100000 + n))
    frame = pd.DataFrame(
        {
            "TARGET": target,
            "NOISE": rng.normal(size=n),
            "STRONG": target + rng.normal(scale=0.8, size=n),  # predictive, but no copy of the target
            "LEAK": np.where(rng.random(n) < 0.5, np.nan, target),  # the target, half missing
            "CLIENT_NUMBER": ids.astype("float64"),
            "SK_ID_PREV_MAX": rng.normal(size=n),
        },
        index=pd.Index(ids, name="SK_ID_CURR"),
    )
    return frame, np.ones(n, dtype=bool)


def test_audit_flags_ids_and_target_leaks():
    frame, fitting = audit_frame()
    audit = files.leakage_audit(frame, fitting, SETTINGS).set_index("feature")
    assert audit.loc["LEAK", "target_derived"] and audit.loc["LEAK", "auc_present"] == 1.0
    assert audit.loc["CLIENT_NUMBER", "id_like"] and audit.loc["CLIENT_NUMBER", "id_rank_corr"] == pytest.approx(1)
    assert audit.loc["SK_ID_PREV_MAX", "id_like"]
    assert audit.loc["STRONG", "suspicious"] and not audit.loc["STRONG", "target_derived"]
    assert not audit.loc["NOISE", ["id_like", "target_derived", "suspicious"]].any()
    assert audit.loc["NOISE", "auc"] < 0.56
    with pytest.raises(files.LeakageError, match="LEAK.*|CLIENT_NUMBER"):
        files.raise_on_leaks(audit.reset_index(), Path("audit.csv"))


def test_audit_uses_only_the_fitting_rows():
    frame, _ = audit_frame()
    fitting = np.arange(len(frame)) % 2 == 0
    # a column that equals the target only on holdout rows is invisible to the audit, by design
    frame["HOLDOUT_ONLY"] = np.where(fitting, 0.0, frame["TARGET"])
    audit = files.leakage_audit(frame, fitting, SETTINGS).set_index("feature")
    assert audit.loc["HOLDOUT_ONLY", "auc"] == 0.5


def test_audit_measures_on_at_most_audit_max_rows_drawn_with_the_seed():
    """Beyond ``audit_max_rows`` fitting rows the audit measures on a seeded sample of them: the same sample
    for the same seed, never a holdout row, and the leaks still caught; at or below it, on every fitting row."""
    frame, _ = audit_frame(4000)
    fitting = np.arange(len(frame)) % 4 != 0
    rows = files.audit_rows(fitting, 1000, seed=3)
    assert len(rows) == len(set(rows)) == 1000 and fitting[rows].all() and (np.diff(rows) > 0).all()
    assert np.array_equal(rows, files.audit_rows(fitting, 1000, seed=3))
    assert not np.array_equal(rows, files.audit_rows(fitting, 1000, seed=4))
    assert np.array_equal(files.audit_rows(fitting, 3000, seed=3), np.flatnonzero(fitting))

    capped = files.leakage_audit(frame, fitting, {**SETTINGS, "audit_max_rows": 1000}, seed=3)
    assert capped.set_index("feature").loc[["LEAK", "CLIENT_NUMBER"], ["id_like", "target_derived"]].any(axis=1).all()
    subset = np.zeros(len(frame), dtype=bool)
    subset[rows] = True
    on_sample = files.leakage_audit(frame, subset, {**SETTINGS, "audit_max_rows": 1000}, seed=99)
    pd.testing.assert_frame_equal(capped, on_sample)


@pytest.mark.parametrize(
    "leak, column",
    [
        (lambda app: app.get("TARGET", 0), "APPROVAL_SCORE"),
        (lambda app: app["SK_ID_CURR"], "CLIENT_REF"),
    ],
)
def test_stage_fails_on_a_leaking_feature(stage_dir, monkeypatch, leak, column):
    honest = application_features

    def leaky(app: pd.DataFrame) -> pd.DataFrame:
        out = honest(app)
        out[column] = np.asarray(leak(app), dtype="float64") * np.ones(len(out))
        return out

    monkeypatch.setattr(files, "application_features", leaky)
    with pytest.raises(files.LeakageError, match=column):
        featurize.main()
    audit = pd.read_csv(stage_dir / "reports/tables/leakage_audit.csv").set_index("feature")
    assert audit.loc[column, ["id_like", "target_derived"]].any()
    assert not (stage_dir / "data/features/train.parquet").exists()


def test_stage_reads_its_params(stage_dir):
    params = yaml.safe_load((stage_dir / "params.yaml").read_text())
    params["featurize"]["suspicious_auc"] = 0.5
    (stage_dir / "params.yaml").write_text(yaml.safe_dump(params))
    featurize.main()
    audit = pd.read_csv(stage_dir / "reports/tables/leakage_audit.csv")
    metrics = json.loads((stage_dir / "reports/metrics/featurize.json").read_text())
    assert metrics["suspicious_features"] == int((audit["auc"] > 0.5).sum()) > 0


def test_numpy_huge_pages_follow_the_params(monkeypatch):
    monkeypatch.delenv("NUMPY_MADVISE_HUGEPAGE", raising=False)
    featurize.configure_numpy({"numpy_hugepages": True})
    assert "NUMPY_MADVISE_HUGEPAGE" not in os.environ
    featurize.configure_numpy({"numpy_hugepages": False})
    assert os.environ["NUMPY_MADVISE_HUGEPAGE"] == "0"
    monkeypatch.setenv("NUMPY_MADVISE_HUGEPAGE", "1")  # the user's own setting wins
    featurize.configure_numpy({"numpy_hugepages": False})
    assert os.environ["NUMPY_MADVISE_HUGEPAGE"] == "1"


def test_average_ranks_are_pandas_ranks_to_the_bit():
    rng = np.random.default_rng(5)
    values = rng.integers(0, 7, size=(500, 6)).astype(float)  # many ties
    values[:, 1] = rng.normal(size=500)  # none
    values[rng.random((500, 6)) < 0.2] = np.nan
    values[:, 2] = np.nan  # all missing
    values[:, 3] = 1.0  # constant
    values[:4, 4] = [0.0, -0.0, 0.0, -0.0]  # signed zeros tie
    expected = pd.DataFrame(values).rank(method="average").to_numpy()
    assert np.array_equal(files.average_ranks(values), expected, equal_nan=True)


def test_benchmark_measures_each_command_alone():
    """The benchmark's measurement: wall time and peak RSS of one command's process tree, not of earlier ones."""
    from benchmarks import featurize_full as bench

    big = bench.measure([sys.executable, "-c", "x = bytearray(400_000_000); x[::4096] = b'1' * len(x[::4096])"], REPO)
    small = bench.measure([sys.executable, "-c", "pass"], REPO)
    assert big["peak_rss_gb"] >= 0.4 > small["peak_rss_gb"] > 0
    assert big["seconds"] > 0 and small["seconds"] > 0


