"""Fairness audit: group metrics equal a hand computation, age bands and genders from the raw columns, and the
stage end to end on a hand-made champion (two settings of features.exclude_protected)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import yaml

from credit_scoring.features.application import DAYS_PER_YEAR
from credit_scoring.governance import fairness as F
from stages import fairness as stage

SETTINGS = {"age_bands": [30, 45, 60], "min_group_size": 3, "four_fifths": 0.8}


def test_group_metrics_equal_a_hand_computation():
    # group a: 5 clients, 3 good (1 refused), 2 defaulters (1 refused) -> 3 granted of 5
    # group b: 4 clients, 3 good (2 refused), 1 defaulter (refused)   -> 1 granted of 4
    # group c: 2 clients (below min_group_size: reported, left out of the gaps)
    y = np.array([0, 0, 0, 1, 1, 0, 0, 0, 1, 0, 1])
    refused = np.array([1, 0, 0, 1, 0, 1, 1, 0, 1, 0, 0])
    groups = pd.Series(list("aaaaabbbbcc"), dtype="str")
    table, summary = F.audit(y, refused, groups, min_group_size=3, four_fifths=0.8)
    by = table.set_index("groupe")
    assert by.loc["a", "clients"] == 5 and by.loc["b", "clients"] == 4 and by.loc["c", "clients"] == 2
    assert by.loc["a", "taux_d_accord"] == pytest.approx(3 / 5)
    assert by.loc["b", "taux_d_accord"] == pytest.approx(1 / 4)
    assert by.loc["a", "taux_de_refus_a_tort"] == pytest.approx(1 / 3)
    assert by.loc["b", "taux_de_refus_a_tort"] == pytest.approx(2 / 3)
    assert by.loc["a", "rappel"] == pytest.approx(1 / 2)
    assert by.loc["b", "rappel"] == pytest.approx(1.0)
    assert by.loc["c", "rappel"] == pytest.approx(0.0)
    assert summary["disparate_impact_ratio"] == pytest.approx((1 / 4) / (3 / 5))
    assert summary["four_fifths_rule_met"] is False
    assert summary["false_refusal_rate_gap"] == pytest.approx(2 / 3 - 1 / 3)
    assert summary["recall_gap"] == pytest.approx(1 - 1 / 2)
    assert summary["groups_too_small"] == ["c"]
    assert by["compte_dans_les_ecarts"].tolist() == [True, True, False]


def test_a_group_without_defaulters_has_no_recall_rather_than_zero():
    table, _ = F.audit(np.array([0, 0, 1]), np.array([0, 1, 1]), pd.Series(["a", "a", "b"]), 1, 0.8)
    assert np.isnan(table.set_index("groupe").loc["a", "rappel"])
    assert np.isnan(table.set_index("groupe").loc["b", "taux_de_refus_a_tort"])


def test_equal_approval_rates_meet_the_four_fifths_rule():
    _, summary = F.audit(np.zeros(4), np.array([0, 1, 0, 1]), pd.Series(list("aabb")), 2, 0.8)
    assert summary["disparate_impact_ratio"] == pytest.approx(1.0) and summary["four_fifths_rule_met"] is True


def test_age_bands_from_days_birth_follow_the_limits():
    years = np.array([18.0, 29.99, 30.0, 44.99, 45.0, 59.99, 60.0, 80.0])
    bands = F.age_bands(pd.Series(-years * DAYS_PER_YEAR), [30, 45, 60])
    assert bands.tolist() == ["moins de 30 ans", "moins de 30 ans", "30 à 44 ans", "30 à 44 ans", "45 à 59 ans",
                              "45 à 59 ans", "60 ans et plus", "60 ans et plus"]
    assert list(bands.cat.categories) == ["moins de 30 ans", "30 à 44 ans", "45 à 59 ans", "60 ans et plus"]


def test_genders_keep_unknown_codes_apart():
    assert F.gender_groups(pd.Series(["F", "M", "XNA", None])).tolist() == ["femmes", "hommes", "non renseigné",
                                                                            "non renseigné"]


def hand_made_project(root, exclude_protected: list[str], rng_seed: int = 0):
    """What the fairness stage reads: the champion's bundle.json and holdout scores, the raw application table
    and params.yaml; 400 holdout clients and 100 training clients (never read by the audit)."""
    rng = np.random.default_rng(rng_seed)
    n = 500
    application = pd.DataFrame({
        "SK_ID_CURR": np.arange(100000, 100000 + n),
        "TARGET": rng.binomial(1, 0.1, n),
        "CODE_GENDER": rng.choice(["F", "M", "XNA"], n, p=[0.6, 0.39, 0.01]).astype(object),
        "DAYS_BIRTH": -rng.integers(20 * 365, 70 * 365, n),
        "AMT_CREDIT": rng.uniform(1e4, 1e6, n),
    })
    holdout = application.sample(400, random_state=rng_seed)
    scores = pd.DataFrame({"SK_ID_CURR": holdout["SK_ID_CURR"].to_numpy(), "probability": rng.uniform(0, 0.3, 400)})
    (root / "models/champion").mkdir(parents=True)
    (root / "data/prepared").mkdir(parents=True)
    application.to_parquet(root / "data/prepared/application_train.parquet", index=False)
    scores.to_parquet(root / "models/champion/reference_scores.parquet", index=False)
    bundle = {"threshold": 0.09, "model_version": "3", "exclude_protected": exclude_protected}
    (root / "models/champion/bundle.json").write_text(json.dumps(bundle))
    params = {"features": {"exclude_protected": exclude_protected}, "fairness": SETTINGS}
    (root / "params.yaml").write_text(yaml.safe_dump(params))
    return application, scores


@pytest.mark.parametrize("exclude_protected", [[], ["CODE_GENDER"]])
def test_the_stage_audits_the_holdout_at_the_champion_threshold(tmp_path, monkeypatch, exclude_protected):
    application, scores = hand_made_project(tmp_path, exclude_protected)
    monkeypatch.chdir(tmp_path)
    stage.main()
    metrics = json.loads((tmp_path / "reports/metrics/fairness.json").read_text())
    assert metrics["exclude_protected"] == exclude_protected
    assert metrics["holdout_clients"] == 400 and metrics["threshold"] == 0.09
    joined = scores.merge(application, on="SK_ID_CURR")
    women = joined[joined["CODE_GENDER"] == "F"]
    assert metrics["sexe"]["groups"]["femmes"]["approval_rate"] == pytest.approx(np.mean(women["probability"] < 0.09))
    assert metrics["sexe"]["groups"]["femmes"]["clients"] == len(women)
    assert metrics["sexe"]["groups"]["femmes"]["default_rate"] == pytest.approx(women["TARGET"].mean())
    assert metrics["overall"]["default_rate"] == pytest.approx(joined["TARGET"].mean())
    good = joined[joined["TARGET"] == 0]
    assert metrics["overall"]["false_refusal_rate"] == pytest.approx(np.mean(good["probability"] >= 0.09))
    rates = [g["approval_rate"] for name, g in metrics["age"]["groups"].items()]
    assert metrics["age"]["disparate_impact_ratio"] == pytest.approx(min(rates) / max(rates))
    table = pd.read_csv(tmp_path / "reports/tables/fairness.csv")
    assert set(table["attribut"]) == {"sexe", "age"} and len(table) == len(metrics["sexe"]["groups"]) + 4
    assert (tmp_path / "reports/figures/fairness.png").stat().st_size > 10_000


def test_the_stage_refuses_a_champion_trained_with_the_other_setting(tmp_path, monkeypatch):
    hand_made_project(tmp_path, exclude_protected=[])
    params = yaml.safe_load((tmp_path / "params.yaml").read_text())
    params["features"]["exclude_protected"] = ["CODE_GENDER"]
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValueError, match="exclude_protected"):
        stage.main()
