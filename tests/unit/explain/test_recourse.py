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
    amount_proposal,
    duration_proposals,
    implied_months,
    largest_amount_factor,
    monthly_instalment,
    positive,
    recourse,
    scaled,
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
        settings(annual_rate=12)
    with pytest.raises(ValueError, match="months"):
        settings(min_months=60, max_months=6)


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


def amount_score(candidates: list[dict]) -> np.ndarray:
    """Risk = the amount in millions, whatever the instalment: the largest granted amount is known exactly."""
    return np.array([c[AMOUNT] / 1e6 for c in candidates])


def instalment_score(candidates: list[dict]) -> np.ndarray:
    """Risk falling as the instalment rises (a shorter loan safer): grants the shorter durations."""
    return np.array([1000.0 / c[ANNUITY] for c in candidates])


def settings(**changes) -> RecourseSettings:
    return RecourseSettings(**{**PARAMS["explain"]["recourse"], **changes})


def over(months: int) -> dict[str, float]:
    """The duration proposal's change for the application's amount over ``months``, as `duration_proposals`
    computes it."""
    return {ANNUITY: round(monthly_instalment(APPLICATION[AMOUNT], months, SETTINGS.annual_rate), 2)}


def score_over(score, months: int) -> float:
    return float(score([{**APPLICATION, **over(months)}])[0])


@pytest.mark.parametrize("changes", [{"annual_rate": 0.0}, {"annual_rate": 1.0}, {"min_months": 0},
                                     {"min_months": 60, "max_months": 60}, {"min_credit": 0.0},
                                     {"amount_step": 0.0}, {"max_credit_factor": 1.0}, {"grid": 2}])
def test_each_bound_of_the_settings_is_enforced(changes):
    with pytest.raises(ValueError, match="recourse"):
        settings(**changes)


def test_the_settings_accept_their_edges():
    edge = settings(annual_rate=0.001, min_months=1, max_months=2, max_credit_factor=1.01, grid=3, min_credit=0.5,
                    amount_step=0.5)
    assert edge.grid == 3 and edge.min_months == 1 and edge.min_credit == 0.5
    with pytest.raises(ValueError) as error:
        settings(grid=2)
    assert str(error.value) == ("recourse: min_credit and amount_step must be positive, max_credit_factor above 1, "
                                "grid at least 3")


def test_a_scaled_loan_keeps_cents():
    assert scaled({AMOUNT: 100_000.0, ANNUITY: 1_000.0}, 1 / 3) == {AMOUNT: 33_333.33, ANNUITY: 333.33}


def constant_score(value: float):
    return lambda candidates: np.full(len(candidates), value)


def test_a_score_equal_to_the_threshold_is_a_refusal_everywhere():
    """The served rule refuses at the threshold: no amount, duration or final proposal at it is granted."""
    at = constant_score(0.3)
    found = recourse(APPLICATION, at, 0.3, SETTINGS)
    assert found.proposals == [] and found.probability == 0.3 and found.months == 24
    assert amount_proposal(APPLICATION, at, 0.3, SETTINGS, upwards=False) is None
    assert duration_proposals(APPLICATION, 24.0, at, 0.3, SETTINGS) == []
    # refused as sent (score = threshold): the proposals are the refused client's, not a margin
    threshold = float(burden_score([APPLICATION])[0])
    assert {p.kind for p in recourse(APPLICATION, burden_score, threshold, SETTINGS).proposals} == {LESS, LONGER}


def test_when_every_amount_is_granted_the_margin_is_the_largest_searched():
    margin = amount_proposal(APPLICATION, amount_score, 10.0, SETTINGS, upwards=True)
    assert margin == {AMOUNT: 400_000.0 * SETTINGS.max_credit_factor,
                      ANNUITY: round(APPLICATION[ANNUITY] * SETTINGS.max_credit_factor, 2)}


def test_the_longest_duration_searched_is_the_last_proposed():
    at_60, at_61 = score_over(burden_score, 60), score_over(burden_score, 61)
    found = duration_proposals(APPLICATION, 24.0, burden_score, at_60 + 1e-9, SETTINGS)
    assert [(kind, m) for kind, m, _ in found] == [(LONGER, 60)]
    assert duration_proposals(APPLICATION, 24.0, burden_score, (at_60 + at_61) / 2, SETTINGS) == []


def test_an_application_without_a_duration_still_gets_its_probability():
    unknown = recourse({**APPLICATION, ANNUITY: None}, burden_score, 0.5, SETTINGS)
    assert unknown.probability == pytest.approx(float(burden_score([{**APPLICATION, ANNUITY: None}])[0]))


def test_an_instalment_that_only_covers_the_interest_implies_no_duration():
    interest = 100_000 * 0.12 / 12
    assert implied_months(100_000, interest, 0.12) is None
    assert implied_months(100_000, interest + 1, 0.12) == pytest.approx(
        -math.log(1 - interest / (interest + 1)) / math.log(1.01))
    assert implied_months(0.0, 900, 0.12) is None and implied_months(100_000, -5.0, 0.12) is None
    assert [positive(x) for x in (None, math.nan, np.float64("nan"), 0, -1.0, 0.01, 3)] == [False] * 5 + [True] * 2


def test_the_largest_granted_amount_is_found_to_the_step_and_rounded_down():
    """Granted below 300,000: the search ends within a step of it, the amount rounded down to 299,000 and the
    instalment in the same proportion (same duration)."""
    less = amount_proposal(APPLICATION, amount_score, 0.3, SETTINGS, upwards=False)
    assert less == {AMOUNT: 299_000.0, ANNUITY: round(APPLICATION[ANNUITY] * 299_000 / 400_000, 2)}
    margin = amount_proposal(APPLICATION, amount_score, 0.5, SETTINGS, upwards=True)
    assert margin[AMOUNT] == 499_000.0
    factor = largest_amount_factor(APPLICATION, 0.5, 1.0, amount_score, 0.3, 24, 1000.0)
    assert 299_000 <= factor * 400_000 < 300_000
    assert largest_amount_factor(APPLICATION, 0.9, 1.0, amount_score, 0.3, 24, 1000.0) is None


def test_the_smallest_credit_itself_can_be_proposed():
    assert amount_proposal(APPLICATION, amount_score, 0.0455, SETTINGS, upwards=False)[AMOUNT] == SETTINGS.min_credit


def test_no_amount_is_proposed_below_the_smallest_credit_or_at_no_gain():
    small = {**APPLICATION, AMOUNT: 45_000.0}
    assert amount_proposal(small, amount_score, 0.01, SETTINGS, upwards=False) is None  # nothing below the floor
    odd_floor = settings(min_credit=45_500.0)
    # granted up to 45,900, rounded down to 45,000: under the floor, so nothing
    assert amount_proposal(APPLICATION, amount_score, 0.0459, odd_floor, upwards=False) is None
    # a margin of less than a step rounds back to the request: no margin
    assert amount_proposal(APPLICATION, amount_score, 0.4005, SETTINGS, upwards=True) is None
    assert amount_proposal({**APPLICATION, ANNUITY: None}, amount_score, 0.3, SETTINGS, upwards=False) is None


def test_the_nearest_granted_durations_are_proposed_on_each_side():
    found = duration_proposals(APPLICATION, 24.0, burden_score, score_over(burden_score, 30) + 1e-9, SETTINGS)
    assert [(kind, m) for kind, m, _ in found] == [(LONGER, 30)]
    assert found[0][2] == over(30)
    found = duration_proposals(APPLICATION, 24.0, instalment_score, score_over(instalment_score, 18) + 1e-9,
                               SETTINGS)
    assert [(kind, m) for kind, m, _ in found] == [(SHORTER, 18)]
    assert found[0][2] == over(18)


def test_durations_within_a_month_of_the_request_are_not_proposals():
    """Requested 24.4 months: 24 and 25 are the request itself, the nearest others are 23 and 26."""
    found = duration_proposals(APPLICATION, 24.4, burden_score, 1.0, SETTINGS)
    assert [(kind, m) for kind, m, _ in found] == [(SHORTER, 23), (LONGER, 26)]
    found = duration_proposals(APPLICATION, 24.0, burden_score, 1.0, SETTINGS)
    assert [(kind, m) for kind, m, _ in found] == [(SHORTER, 23), (LONGER, 25)]


def test_a_proposal_refused_when_scored_as_sent_is_dropped():
    """Each proposal is scored once more as it would be sent (the last call): one that scoring refuses is not
    proposed, the others are kept with the probability of that scoring."""
    threshold = float(burden_score([APPLICATION])[0]) - 0.01
    calls = []

    def counted(candidates):
        calls.append(candidates)
        return burden_score(candidates)

    kept = recourse(APPLICATION, counted, threshold, SETTINGS).proposals
    last = len(calls)
    assert [{k: c[k] for k in p.changes} for p, c in zip(kept, calls[-1], strict=True)] == [p.changes for p in kept]
    calls.clear()

    def refuses_the_first_at_the_end(candidates):
        calls.append(candidates)
        scores = burden_score(candidates)
        # the first proposal scores exactly the threshold when sent: refused, as the API would refuse it
        return np.where(np.arange(len(scores)) == 0, threshold, scores - 0.001) if len(calls) == last else scores

    dropped = recourse(APPLICATION, refuses_the_first_at_the_end, threshold, SETTINGS)
    assert len(kept) == 2 and [p.kind for p in dropped.proposals] == [kept[1].kind]
    assert dropped.proposals[0].probability == pytest.approx(kept[1].probability - 0.001)
    assert dropped.months == 24 and dropped.probability == pytest.approx(float(burden_score([APPLICATION])[0]))


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
