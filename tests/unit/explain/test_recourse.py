"""Recourse on its own (`credit_scoring.explain.recourse`): instalments and durations, the searches, and what a proposal
may change, with a hand-made monotone score and with a LightGBM model trained under the project's constraints."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from credit_scoring.explain.recourse import (
    ACTIONABLE,
    AMOUNT,
    ANNUITY,
    LESS,
    LONGER,
    MARGIN,
    SHORTER,
    RecourseSettings,
    implied_months,
    monthly_instalment,
    recourse,
)
from credit_scoring.modeling.training import make_estimator

PARAMS = yaml.safe_load((Path(__file__).resolve().parents[3] / "params.yaml").read_text())
SETTINGS = RecourseSettings(**PARAMS["explain"]["recourse"])
APPLICATION = {"SK_ID_CURR": 1, "AMT_INCOME_TOTAL": 100_000.0, AMOUNT: 400_000.0, "AMT_GOODS_PRICE": 360_000.0,
               "DAYS_BIRTH": -12_000, "CODE_GENDER": "F",
               ANNUITY: round(monthly_instalment(400_000.0, 24, SETTINGS.annual_rate), 2)}


def burden_score(candidates: list[dict]) -> np.ndarray:
    """Risk rising with the monthly burden and the amount (monotone in both), as a model trained with
    `estimator.monotone` is."""
    return np.array([0.02 + 0.08 * (c[ANNUITY] or 0.0) / c["AMT_INCOME_TOTAL"] * 12 + 0.05 * c[AMOUNT] / 1e6
                     for c in candidates])


def test_instalments_and_durations_are_inverse():
    instalment = monthly_instalment(100_000, 36, 0.12)
    assert instalment == pytest.approx(3321.43, abs=0.01)  # the standard annuity formula
    assert implied_months(100_000, instalment, 0.12) == pytest.approx(36)
    assert implied_months(100_000, 900, 0.12) is None  # does not even cover the interest
    assert implied_months(None, 900, 0.12) is None and implied_months(math.nan, 900, 0.12) is None


def test_settings_refuse_nonsense():
    with pytest.raises(ValueError, match="annual_rate"):
        RecourseSettings(**{**PARAMS["explain"]["recourse"], "annual_rate": 12})
    with pytest.raises(ValueError, match="months"):
        RecourseSettings(**{**PARAMS["explain"]["recourse"], "min_months": 60, "max_months": 6})


def test_a_refused_application_gets_the_largest_granted_amount_and_the_nearest_durations():
    threshold = float(burden_score([APPLICATION])[0]) - 0.01  # refused as asked
    found = recourse(APPLICATION, burden_score, threshold, SETTINGS)
    assert found.months == 24 and found.probability >= threshold
    kinds = {p.kind: p for p in found.proposals}
    assert set(kinds) == {LESS, LONGER}  # a shorter duration only raises the instalment
    less = kinds[LESS]
    assert less.changes[AMOUNT] < APPLICATION[AMOUNT] and less.changes[AMOUNT] % SETTINGS.amount_step == 0
    ratio = less.changes[AMOUNT] / APPLICATION[AMOUNT]
    assert less.changes[ANNUITY] == pytest.approx(APPLICATION[ANNUITY] * ratio, abs=0.01)  # same duration
    assert set(less.changes) == {AMOUNT, ANNUITY}  # the same purchase: the client brings the difference
    one_step_more = {**APPLICATION, AMOUNT: less.changes[AMOUNT] + SETTINGS.amount_step,
                     ANNUITY: APPLICATION[ANNUITY] * (less.changes[AMOUNT] + SETTINGS.amount_step)
                     / APPLICATION[AMOUNT]}
    assert burden_score([one_step_more])[0] >= threshold  # the largest granted, to the rounding step
    longer = kinds[LONGER]
    assert longer.months > 24 and set(longer.changes) == {ANNUITY}
    assert burden_score([{**APPLICATION, ANNUITY: monthly_instalment(APPLICATION[AMOUNT], longer.months - 1,
                                                                      SETTINGS.annual_rate)}])[0] >= threshold
    for p in found.proposals:
        assert set(p.changes) <= set(ACTIONABLE) and p.granted and p.probability < threshold
        assert p.probability == pytest.approx(burden_score([{**APPLICATION, **p.changes}])[0])


def test_a_granted_application_gets_its_margin_and_nothing_else():
    threshold = float(burden_score([APPLICATION])[0]) + 0.01
    found = recourse(APPLICATION, burden_score, threshold, SETTINGS)
    assert [p.kind for p in found.proposals] == [MARGIN]
    margin = found.proposals[0]
    assert APPLICATION[AMOUNT] < margin.changes[AMOUNT] <= APPLICATION[AMOUNT] * SETTINGS.max_credit_factor
    assert margin.probability < threshold


def test_nothing_is_proposed_when_no_loan_of_the_kind_is_granted_or_the_loan_is_unknown():
    assert recourse(APPLICATION, burden_score, 0.0, SETTINGS).proposals == []
    unknown = recourse({**APPLICATION, ANNUITY: None}, burden_score, 0.5, SETTINGS)
    assert unknown.months is None and unknown.proposals == []


def test_a_lightgbm_model_trained_with_the_constraints_never_grants_more_credit_where_it_refuses_less():
    """More credit never lowers the risk along the proposals' path: the model's amount features are monotone."""
    rng = np.random.default_rng(0)
    n = 6000
    income = rng.lognormal(11.8, 0.5, n)
    credit = rng.lognormal(12.8, 0.6, n)
    months = rng.integers(6, 61, n)
    annuity = np.array([monthly_instalment(c, m, 0.12) for c, m in zip(credit, months, strict=True)])
    goods = credit * rng.uniform(0.7, 1.0, n)
    noise = rng.normal(size=n)  # an unrelated feature the trees also split on
    # as in the data, larger loans look safer (richer clients): the constraints keep the model from learning it
    logit = -3 + 2.5 * annuity * 12 / income - 0.4 * np.log(credit / 1e5) - 1.5 * goods / credit + noise
    y = rng.binomial(1, 1 / (1 + np.exp(-logit)))
    X = pd.DataFrame({"AMT_CREDIT": credit, "AMT_ANNUITY": annuity, "AMT_INCOME_TOTAL": income,
                      "ANNUITY_INCOME_RATIO": annuity / income, "CREDIT_INCOME_RATIO": credit / income,
                      "GOODS_CREDIT_RATIO": goods / credit, "EXT_SOURCE_1": noise}).astype("float32")
    model = make_estimator("lightgbm", {"num_leaves": 15}, 0, 200, False, PARAMS["estimator"], list(X.columns))
    model.fit(X, y)

    def score(candidates):
        rows = pd.DataFrame(candidates)
        rows["ANNUITY_INCOME_RATIO"] = rows[ANNUITY] / rows["AMT_INCOME_TOTAL"]
        rows["CREDIT_INCOME_RATIO"] = rows[AMOUNT] / rows["AMT_INCOME_TOTAL"]
        rows["GOODS_CREDIT_RATIO"] = rows["AMT_GOODS_PRICE"] / rows[AMOUNT]
        return model.predict_proba(rows[list(X.columns)].astype("float32"))[:, 1]

    for i in range(40):
        application = {AMOUNT: float(credit[i]), ANNUITY: float(annuity[i]), "AMT_INCOME_TOTAL": float(income[i]),
                       "AMT_GOODS_PRICE": float(goods[i]), "EXT_SOURCE_1": float(noise[i])}
        factors = np.geomspace(0.1, 3, 200)
        path = score([{**application, AMOUNT: application[AMOUNT] * f, ANNUITY: application[ANNUITY] * f}
                      for f in factors])
        assert np.all(np.diff(path) >= -1e-12)
        threshold = float(np.quantile(path, 0.5))
        for p in recourse(application, score, threshold, SETTINGS).proposals:
            assert p.probability < threshold and set(p.changes) <= set(ACTIONABLE)
            if p.kind == LESS:
                assert p.changes[AMOUNT] <= application[AMOUNT]
            if p.kind in (SHORTER, LONGER):
                assert AMOUNT not in p.changes
