"""The explain and explain_report stages on the tiny trained project (`explained_project`): what they write, and
the API path that explains a champion client."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from credit_scoring.explain.local import (
    explain_frame,
    load_explain_config,
    local_explanation,
)
from credit_scoring.features.families import families
from credit_scoring.modeling.bundle import load_bundle


# --------------------------------------------------------------------------------------------------------
# The stage on a tiny project.
# --------------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def reported_project(explained_project, tmp_path_factory) -> Path:
    """A copy of the explained project after the explain_report stage."""
    from stages import explain_report

    project = tmp_path_factory.mktemp("report") / "project"
    shutil.copytree(explained_project, project)
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(project)
        explain_report.main()
    return project


def files_under(root: Path) -> set[str]:
    return {str(f.relative_to(root)) for f in root.rglob("*") if f.is_file()}


@pytest.mark.slow
def test_the_explain_stage_writes_the_served_folder_and_nothing_else(explained_project, tmp_path, monkeypatch):
    from stages import explain

    project = tmp_path / "project"
    shutil.copytree(explained_project, project)
    shutil.rmtree(project / "models/explain")
    before = files_under(project)
    monkeypatch.chdir(project)
    explain.main()
    assert files_under(project) - before == {"models/explain/explain.json", "models/explain/labels.json"}
    assert files_under(project) >= before


@pytest.mark.slow
def test_the_report_writes_figures_tables_and_metrics(reported_project, explained_project):
    p = reported_project
    figures = ["shap_importance", "shap_beeswarm", "shap_waterfall_refuse", "shap_waterfall_accorde",
               *[f"shap_dependence_{i}" for i in range(1, 5)], *[f"ebm_shape_{i}" for i in range(1, 5)]]
    for figure in figures:
        assert (p / "reports/figures" / f"{figure}.png").stat().st_size > 10_000, figure
    metrics = json.loads((p / "reports/metrics/explain.json").read_text())
    threshold = json.loads((p / "reports/metrics/threshold.json").read_text())
    assert metrics["champion_holdout_auc"] == threshold["holdout_auc"]
    assert 0.55 < metrics["ebm_holdout_auc"] <= 1 and 0 < metrics["ebm_threshold"] < 1
    assert len(metrics["top_features"]) == 12 and len(metrics["ebm_features"]) == 6
    assert metrics["dependence_figures"] == metrics["top_features"][:4]
    assert set(metrics["ebm_shape_figures"]) <= set(metrics["ebm_features"])
    comparison = pd.read_csv(p / "reports/tables/ebm_vs_champion.csv").set_index("id")
    assert list(comparison.index) == ["champion", "ebm"]
    assert comparison.loc["champion", "auc_validation"] == pytest.approx(threshold["holdout_auc"])
    assert comparison.loc["ebm", "auc_validation"] == pytest.approx(metrics["ebm_holdout_auc"])
    intervals = metrics["ebm_intervals"]
    assert set(intervals) == {"holdout_auc", "holdout_cost_per_client", "ebm_minus_champion_auc",
                              "ebm_minus_champion_cost"}
    for name, point in (("holdout_auc", metrics["ebm_holdout_auc"]),
                        ("holdout_cost_per_client", metrics["ebm_holdout_cost_per_client"]),
                        ("ebm_minus_champion_auc", metrics["ebm_holdout_auc"] - threshold["holdout_auc"]),
                        ("ebm_minus_champion_cost",
                         metrics["ebm_holdout_cost_per_client"] - threshold["holdout_cost_per_client"])):
        low, high = intervals[name]
        assert low <= point <= high and low < high, name
    served = load_explain_config(explained_project / "models/explain")
    assert [g["feature"] for g in served.global_importance] == metrics["top_features"]
    assert served.expected_value == metrics["expected_value"]


@pytest.mark.slow
def test_the_importance_table_is_the_mean_absolute_shap_of_the_holdout(reported_project):
    from credit_scoring.modeling.training import load_training

    p = reported_project
    bundle = load_bundle(p / "models/champion")
    data = load_training(p / "data/features/train.parquet", p / "data/prepared/split.parquet")
    table = pd.read_csv(p / "reports/tables/shap_importance.csv")
    assert len(table) == len(bundle.features) and table["mean_abs_shap"].is_monotonic_decreasing
    assert set(table["feature"]) == set(bundle.features) and table["libelle"].notna().all()
    rows = np.sort(np.random.default_rng(42).choice(len(data.X_holdout), 500, replace=False))
    expected = explain_frame(bundle, data.X_holdout.iloc[rows])[0].abs().mean()
    np.testing.assert_allclose(table.set_index("feature").loc[expected.index, "mean_abs_shap"], expected, atol=1e-6)
    by_family = pd.read_csv(p / "reports/tables/shap_family_importance.csv")
    assert by_family["mean_abs_shap"].is_monotonic_decreasing
    assert by_family["part"].sum() == pytest.approx(1.0, abs=1e-4)  # each share rounded in the CSV
    contributions = explain_frame(bundle, data.X_holdout.iloc[rows])[0]
    family_map = families(bundle.features)
    summed = contributions.T.groupby([family_map[f] for f in contributions.columns]).sum().T
    np.testing.assert_allclose(by_family.set_index("famille").loc[summed.columns, "mean_abs_shap"],
                               summed.abs().mean(), atol=1e-6)


@pytest.mark.slow
def test_the_api_path_explains_a_champion_client_with_reasons(explained_project):
    """What the API does: load both folders, explain one client's feature row, give its reasons."""
    p = explained_project
    bundle = load_bundle(p / "models/champion")
    config = load_explain_config(p / "models/explain", bundle)
    assert set(config.labels) == set(bundle.features) and config.max_reasons == 4
    features = pd.read_parquet(p / "data/features/test.parquet").head(50)
    served = bundle.probability(features)
    for i in range(len(features)):
        explanation = local_explanation(bundle, features.iloc[[i]])
        assert explanation.contributions.sum() + explanation.base_value == pytest.approx(explanation.raw_score)
        assert explanation.probability == pytest.approx(served[i], rel=1e-6)
        reasons = config.reasons(explanation)
        assert [r.contribution for r in reasons] == sorted((r.contribution for r in reasons), reverse=True)
        assert all(r.contribution > 0.02 for r in reasons)
