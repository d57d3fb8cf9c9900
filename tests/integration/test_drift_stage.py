"""The drift stage end to end: on the tiny trained project (its watched features and score, a shifted test set)
and on the default synthetic data (the real drifts flagged, stable columns not)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from credit_scoring.common.formatting import french_list
from credit_scoring.common.params import load_params
from credit_scoring.common.paths import PARAMS
from credit_scoring.dataset.schema import raw_schema
from credit_scoring.governance.drift import application_columns
from credit_scoring.governance.stability import (
    compare,
    without_sentinels,
)
from stages import drift as stage
from tests.unit.governance.test_drift import DRIFT, SETTINGS, WATCHED


def drift_project(explained: Path, root: Path, test_features: pd.DataFrame | None = None) -> Path:
    """A scratch project reading the tiny trained project's data and models (linked, never written), with its own
    params.yaml and reports/, and, when given, its own feature rows of the test clients."""
    (root / "data/features").mkdir(parents=True)
    (root / "data/prepared").symlink_to(explained / "data/prepared")
    (root / "models").symlink_to(explained / "models")
    (root / "data/features/train.parquet").symlink_to(explained / "data/features/train.parquet")
    test = root / "data/features/test.parquet"
    if test_features is None:
        test.symlink_to(explained / "data/features/test.parquet")
    else:
        test_features.to_parquet(test, index=False)
    params = load_params(explained / PARAMS)
    params["drift"] = {**DRIFT, "watched_features": WATCHED}
    (root / "params.yaml").write_text(yaml.safe_dump(params))
    return root


def ranked_features(explained: Path) -> list[str]:
    config = json.loads((explained / "models/explain/explain.json").read_text())
    return [g["feature"] for g in config["global_importance"]]


def test_stage_watches_the_shap_top_features_and_the_score(explained_project, tmp_path, monkeypatch):
    monkeypatch.chdir(drift_project(explained_project, tmp_path))
    stage.main()

    for report in ("data_drift.html", "data_drift_watched_features.html", "score_drift.html"):
        assert (tmp_path / "reports/drift" / report).stat().st_size > 10_000
    summary = json.loads((tmp_path / "reports/metrics/drift.json").read_text())
    watched = summary["watched_features"]
    assert watched["features"] == ranked_features(explained_project)[:WATCHED]
    assert watched["columns"] == WATCHED and list(watched["per_feature"]) == watched["features"]
    assert summary["settings"]["watched_features"] == WATCHED
    split = pd.read_parquet(explained_project / "data/prepared/split.parquet")
    tests = len(pd.read_parquet(explained_project / "data/features/test.parquet", columns=["SK_ID_CURR"]))
    score = summary["score"]
    assert score["rows"] == {"reference": int(split["holdout"].sum()), "current": tests}
    reference = pd.read_parquet(explained_project / "models/champion/reference_scores.parquet")
    assert score["mean"]["reference"] == pytest.approx(reference["probability"].mean())  # the served scores
    assert not score["drifted"] and score["evidently_score"] < 0.15
    table = pd.read_csv(tmp_path / "reports/tables/drift_psi.csv")
    in_scope = table[table["scope"] == "watched"].sort_values("shap_rank")
    assert in_scope["feature"].tolist() == watched["features"] and in_scope["shap_rank"].tolist() == [*range(1, 9)]
    assert table.loc[table["scope"] == "application", "shap_rank"].isna().all()
    assert summary["all_columns"]["columns"] == (table["scope"] == "application").sum()
    assert "Les 8 variables les plus influentes du modèle" in summary["conclusion_fr"]


def test_stage_flags_a_shifted_test_set_and_names_what_moved(explained_project, tmp_path, monkeypatch):
    """The test clients replaced by the riskiest third of the holdout: the score drifts, and so do the features
    the model leans on; the conclusion names them."""
    from credit_scoring.modeling.bundle import load_bundle

    train = pd.read_parquet(explained_project / "data/features/train.parquet")
    split = pd.read_parquet(explained_project / "data/prepared/split.parquet")
    holdout = train[train["SK_ID_CURR"].isin(split.loc[split["holdout"], "SK_ID_CURR"])]
    scores = load_bundle(explained_project / "models/champion").probability(holdout)
    riskiest = holdout[scores >= np.quantile(scores, 2 / 3)].drop(columns="TARGET")
    monkeypatch.chdir(drift_project(explained_project, tmp_path, riskiest))
    stage.main()

    summary = json.loads((tmp_path / "reports/metrics/drift.json").read_text())
    score, text = summary["score"], summary["conclusion_fr"]
    assert score["drifted"] and score["psi_drifted"] and score["psi"] > 0.25
    assert score["refused_share"]["current"] > score["refused_share"]["reference"]
    moved = [f for f, row in summary["watched_features"]["per_feature"].items() if row["drifted"]]
    assert moved and summary["watched_features"]["drifted_columns"] == len(moved)
    assert all(f in text for f in moved)
    assert f"appris ({french_list([*moved, 'le score'])}) :" in text


@pytest.fixture(scope="module")
def drift_on_default_data(tmp_path_factory):
    """The drift table of every application column on freshly generated default data (the generator and the
    prepare stage, as `dvc repro` runs them), at a size where the test file still has thousands of rows."""
    from credit_scoring.dataset.preparation import prepare
    from credit_scoring.dataset.synthetic.generate import generate

    out = tmp_path_factory.mktemp("synthetic")
    generate(20_000, 4_000, seed=7, out_dir=out / "csv", truth_file=out / "truth.csv", log=lambda *_: None)
    prepare(out / "csv", out / "prepared", holdout_size=0.2, seed=7, truth_file=out / "truth.csv")
    train = without_sentinels(pd.read_parquet(out / "prepared/application_train.parquet"))
    test = without_sentinels(pd.read_parquet(out / "prepared/application_test.parquet"))
    table, _ = compare(train, test, application_columns(train, test), SETTINGS, seed=7)
    return table.set_index("feature")


def moved_in_the_real_files(column: str) -> float:
    """Largest change of a value share or of the missing rate between the real train and test files, as the
    schema measured them."""
    train = raw_schema()["tables"]["application_train"]["columns"][column]
    test = raw_schema()["tables"]["application_test"]["columns"][column]
    shares_train, shares_test = train.get("value_shares") or {}, test.get("value_shares") or {}
    moves = [abs(shares_train.get(k, 0) - shares_test.get(k, 0)) for k in set(shares_train) | set(shares_test)]
    return max([abs(train["missing_rate"] - test["missing_rate"]), *moves])


@pytest.mark.slow
def test_on_default_data_the_real_drifts_are_flagged_and_stable_columns_are_not(drift_on_default_data):
    """The five columns that drift most in the real files are flagged, by evidently and by our PSI. No column is
    flagged that is stable in the real files: a real PSI below 0.02 and value shares and missing rate within 3
    points. The schema's PSI, on quantile bins that collapse when few values repeat, misses some moves its own
    facts show (FLAG_EMAIL 5.5 % -> 15.6 %, EXT_SOURCE_1 missing 56 % -> 43 %: excluded by the shares rule;
    AMT_REQ_CREDIT_BUREAU_YEAR, median 1 -> 2: named here); those are not counted as stable."""
    real_psi = raw_schema()["application_train_to_test_psi"]["psi"]
    strongest = sorted(real_psi, key=real_psi.get, reverse=True)[:5]
    assert set(strongest) == {"AMT_REQ_CREDIT_BUREAU_MON", "AMT_REQ_CREDIT_BUREAU_QRT", "NAME_CONTRACT_TYPE",
                              "AMT_GOODS_PRICE", "AMT_CREDIT"}
    assert drift_on_default_data.loc[strongest, "drifted"].all()
    assert drift_on_default_data.loc[strongest, "psi_drifted"].all()

    stable = [
        c for c in drift_on_default_data.index
        if real_psi.get(c, 0) < 0.02 and moved_in_the_real_files(c) < 0.03 and c != "AMT_REQ_CREDIT_BUREAU_YEAR"
    ]
    documents = [c for c in drift_on_default_data.index if c.startswith("FLAG_DOCUMENT_")]
    named_stable = {"EXT_SOURCE_2", "DAYS_BIRTH", "CNT_CHILDREN", "CODE_GENDER", *documents} - {"FLAG_DOCUMENT_3"}
    assert named_stable <= set(stable)
    assert len(stable) > 80
    flagged = drift_on_default_data.loc[stable]
    assert not flagged["drifted"].any(), list(flagged.index[flagged["drifted"]])
    assert not flagged["psi_drifted"].any(), list(flagged.index[flagged["psi_drifted"]])
