"""Realized performance, figure by figure: every number the monitor prints or tests, computed by hand on small
cases (the mutation run of `credit_scoring.production.performance` showed which ones nothing pinned)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

from credit_scoring.production import performance as perf

COST = {"fn": 10, "fp": 1}
# Defaults at 0.9 and 0.3, repaid loans at 0.8, 0.2, 0.6, 0.1; refused from 0.5 (0.9, 0.8, 0.6).
P = [0.9, 0.8, 0.3, 0.2, 0.6, 0.1]
TARGET = [1, 0, 1, 0, 0, 0]
REFUSED = [p >= 0.5 for p in P]


def test_figures_of_a_small_set_equal_a_hand_computation():
    """Costs per client: 0 (refused default), 1 (refused repaid), 10 (granted default), 0, 1, 0: mean 2 and
    population standard deviation sqrt(78 / 6); p(1 - p) sums to 0.95."""
    got = perf.figures(P, TARGET, REFUSED, COST)
    assert got == {
        "outcomes": 6, "defaults": 2, "granted": 3, "default_rate": pytest.approx(2 / 6),
        "default_rate_granted": pytest.approx(1 / 3), "auc": pytest.approx(6 / 8),
        "cost_per_client": pytest.approx(2.0), "cost_sd": pytest.approx(math.sqrt(13)),
        "mean_predicted": pytest.approx(2.9 / 6), "predicted_sd": pytest.approx(math.sqrt(0.95) / 6),
    }
    assert perf.client_costs(np.array(TARGET), np.array(REFUSED), COST).tolist() == [0, 1, 10, 0, 1, 0]


def test_figures_with_nothing_to_measure_are_none_not_errors():
    empty = perf.figures([], [], [], COST)
    assert empty["outcomes"] == 0 and empty["defaults"] == 0 and empty["granted"] == 0
    assert [empty[k] for k in ("default_rate", "default_rate_granted", "auc", "cost_per_client", "cost_sd",
                               "mean_predicted", "predicted_sd")] == [None] * 7
    all_refused = perf.figures([0.7, 0.8], [0, 1], [True, True], COST)
    assert all_refused["default_rate_granted"] is None and all_refused["granted"] == 0
    one_class = perf.figures([0.1, 0.2], [0, 0], [False, False], COST)
    assert one_class["auc"] is None and one_class["default_rate"] == 0.0


def test_the_estimate_of_two_clients_equals_a_hand_computation():
    """p = 0.2 (granted) and 0.6 (refused). Each client is a default with weight p and a repaid loan with weight
    1 - p: of the 0.8 x 1.2 = 0.96 weight of pairs, the default at 0.6 beats the repaid 0.2 (0.48) and ties the
    repaid 0.6 (half of 0.24), the default at 0.2 ties the repaid 0.2 (half of 0.16): AUC 0.68 / 0.96. Costs:
    fn x 0.2 = 2 for the granted client, fp x 0.4 for the refused one."""
    got = perf.estimate([0.2, 0.6], [False, True], COST)
    assert got == {"kind": "estimate", "decisions": 2, "auc": pytest.approx(0.68 / 0.96),
                   "cost_per_client": pytest.approx(1.2), "default_rate": pytest.approx(0.4),
                   "default_rate_granted": pytest.approx(0.2)}


@pytest.mark.parametrize("p", [[0.0, 0.0], [1.0, 1.0], []])
def test_an_estimate_without_both_classes_has_no_auc(p):
    got = perf.estimate(p, [False] * len(p), COST)
    assert got["auc"] is None and got["decisions"] == len(p)
    if not p:
        assert got["cost_per_client"] is None and got["default_rate"] is None
        assert got["default_rate_granted"] is None


def test_the_estimate_of_refused_clients_only_has_no_granted_rate():
    got = perf.estimate([0.6, 0.7], [True, True], COST)
    assert got["default_rate_granted"] is None and got["cost_per_client"] == pytest.approx((0.4 + 0.3) / 2)


@pytest.mark.parametrize("auc, defaults, repaid", [(0.8, 50, 50), (0.8, 20, 80), (0.65, 120, 30)])
def test_hanley_mcneil_follows_its_formula(auc, defaults, repaid):
    """Q1 = A / (2 - A), Q2 = 2A² / (1 + A); var = (A(1 - A) + (m - 1)(Q1 - A²) + (n - 1)(Q2 - A²)) / (mn), with m
    defaults and n repaid loans (the two are not interchangeable: Q1 belongs to the defaults)."""
    q1, q2 = auc / (2 - auc), 2 * auc * auc / (1 + auc)
    variance = (auc * (1 - auc) + (defaults - 1) * (q1 - auc * auc) + (repaid - 1) * (q2 - auc * auc))
    assert perf.hanley_mcneil_se(auc, defaults, repaid) == pytest.approx(math.sqrt(variance / (defaults * repaid)),
                                                                          rel=1e-12)
    assert perf.hanley_mcneil_se(0.8, 50, 50) == pytest.approx(math.sqrt(4.951111111 / 2500), rel=1e-8)


def test_hanley_mcneil_of_a_perfect_auc_is_zero():
    assert perf.hanley_mcneil_se(1.0, 5, 5) == 0.0


def test_the_holdout_over_all_clients_keeps_the_refused():
    holdout = pd.DataFrame({"probability": [0.1, 0.2, 0.7, 0.9, 0.3, 0.05], "target": [0, 1, 1, 0, 0, 0]})
    got = perf.holdout_expectation(holdout, 0.5, COST, granted_only=False)
    assert got["outcomes"] == 6 and got["granted"] == 4
    assert got["cost_per_client"] == pytest.approx((10 + 1) / 6)  # client 2 granted and defaulted, 4 refused


def realized(**changes) -> dict:
    """Realized figures of a period: 400 outcomes, 40 defaults, 300 granted."""
    base = {"outcomes": 400, "defaults": 40, "granted": 300, "auc": 0.70, "cost_per_client": 0.55,
            "default_rate": 0.10, "default_rate_granted": 0.06, "mean_predicted": 0.09, "predicted_sd": 0.012}
    return {**base, **changes}


def expected(**changes) -> dict:
    base = {"auc": 0.75, "cost_per_client": 0.50, "cost_sd": 1.2, "default_rate": 0.08,
            "default_rate_granted": 0.05, "mean_predicted": 0.081}
    return {**base, **changes}


def test_compare_gives_each_band_and_p_value_at_a_third_of_alpha():
    got = perf.compare(realized(), expected(), alpha=0.03)
    z_one, z_two = norm.ppf(0.99), norm.ppf(0.995)
    se = perf.hanley_mcneil_se(0.75, 40, 360)
    assert got["level_per_test"] == pytest.approx(0.01)
    assert got["auc"] == {"realized": 0.70, "expected": 0.75, "se": pytest.approx(se),
                          "lower_bound": pytest.approx(0.75 - z_one * se),
                          "p_value": pytest.approx(norm.cdf(-0.05 / se)), "worse": norm.cdf(-0.05 / se) < 0.01}
    cost_se = 1.2 / math.sqrt(400)
    assert got["cost_per_client"] == {"realized": 0.55, "expected": 0.50, "se": pytest.approx(cost_se),
                                      "upper_bound": pytest.approx(0.50 + z_one * cost_se),
                                      "p_value": pytest.approx(norm.sf(0.05 / cost_se)),
                                      "worse": norm.sf(0.05 / cost_se) < 0.01}
    half = z_two * math.sqrt(0.05 * 0.95 / 300)
    assert got["default_rate_granted"] == {"realized": 0.06, "expected": 0.05,
                                           "band": [pytest.approx(0.05 - half), pytest.approx(0.05 + half)]}
    band = [0.09 - z_two * 0.012, 0.09 + z_two * 0.012]
    assert got["calibration"] == {"observed": 0.10, "predicted": 0.09, "band": pytest.approx(band),
                                  "outside": False, "holdout_observed": 0.08, "holdout_predicted": 0.081}


def test_compare_flags_what_is_worse_beyond_its_level():
    got = perf.compare(realized(auc=0.60, cost_per_client=0.80, default_rate=0.2), expected(), alpha=0.03)
    assert got["auc"]["worse"] and got["cost_per_client"]["worse"] and got["calibration"]["outside"]
    better = perf.compare(realized(auc=0.80, cost_per_client=0.30, default_rate=0.05), expected(), alpha=0.03)
    assert not better["auc"]["worse"] and not better["cost_per_client"]["worse"]
    assert better["calibration"]["outside"]  # a default rate below the band is outside it too


def test_a_difference_just_past_the_level_is_worse_and_just_short_of_it_is_not():
    se = 1.2 / math.sqrt(400)
    edge = 0.50 + norm.ppf(0.99) * se
    assert perf.compare(realized(cost_per_client=edge + 1e-6), expected(), 0.03)["cost_per_client"]["worse"]
    assert not perf.compare(realized(cost_per_client=edge - 1e-6), expected(), 0.03)["cost_per_client"]["worse"]


@pytest.mark.parametrize("defaults, outcomes, judged", [(10, 400, True), (9, 400, False), (390, 400, True),
                                                         (391, 400, False)])
def test_an_auc_is_judged_from_ten_defaults_and_ten_repaid_loans(defaults, outcomes, judged):
    got = perf.compare(realized(defaults=defaults, outcomes=outcomes), expected(), 0.03)
    assert ("auc" in got) is judged


def test_compare_without_spread_or_granted_loans_has_no_p_value_and_no_granted_band():
    got = perf.compare(realized(granted=0, default_rate_granted=None, mean_predicted=0.01, predicted_sd=0.02),
                       expected(cost_sd=0.0, auc=None), 0.03)
    assert got["cost_per_client"]["p_value"] is None and got["cost_per_client"]["worse"] is False
    assert got["cost_per_client"]["se"] == 0.0 and "default_rate_granted" not in got and "auc" not in got
    assert got["calibration"]["band"][0] == 0.0  # a band never reaches below a rate of zero
    low = perf.compare(realized(), expected(default_rate_granted=0.0001), 0.03)
    assert low["default_rate_granted"]["band"][0] == 0.0


def decisions_frame(created: list[str], probability: list[float], threshold: float = 0.5) -> pd.DataFrame:
    return pd.DataFrame({"request_id": [f"r{i}" for i in range(len(created))], "probability": probability,
                         "threshold": threshold, "decision": ["refusé" if p >= threshold else "accordé"
                                                              for p in probability],
                         "created_at": pd.to_datetime(created, utc=True)})


def test_join_puts_each_decision_in_its_utc_period_and_refuses_an_unknown_period():
    decisions = decisions_frame(["2026-03-31T22:30:00+00:00", "2026-04-01T00:10:00+02:00", "2026-04-06T09:00:00Z"],
                                [0.1, 0.2, 0.3])
    outcomes = pd.DataFrame({"request_id": ["r0", "r2"], "target": [1, 0], "extra": ["x", "y"]})
    month = perf.join(decisions, outcomes, "month")
    assert month["period"].tolist() == ["2026-03", "2026-03", "2026-04"]  # 00:10 in Paris is 22:10 UTC the day before
    assert month["target"].tolist()[0] == 1 and pd.isna(month["target"].iloc[1]) and "extra" not in month
    assert perf.join(decisions, outcomes, "day")["period"].tolist() == ["2026-03-31", "2026-03-31", "2026-04-06"]
    assert perf.join(decisions, outcomes, "quarter")["period"].tolist() == ["2026Q1", "2026Q1", "2026Q2"]
    assert perf.join(decisions, outcomes, "week")["period"].iloc[2] == "2026-04-06/2026-04-12"
    with pytest.raises(ValueError, match="monitor.period must be one of day, week, month, quarter, got 'year'"):
        perf.join(decisions, outcomes, "year")


def period_rows(n: int, known: int, refused_known: bool = False, seed: int = 0) -> pd.DataFrame:
    """n decisions of one month (threshold 0.5 for all but one at 0.4), the first `known` with an outcome."""
    rng = np.random.default_rng(seed)
    p = rng.uniform(0.0, 0.45, n)
    if refused_known:
        p[0] = 0.9
    rows = decisions_frame(["2026-05-10T12:00:00Z"] * n, list(p))
    rows.loc[n - 1, "threshold"] = 0.4
    rows["target"] = np.where(np.arange(n) < known, (rng.random(n) < p).astype(float), np.nan)
    return rows


HOLDOUT = pd.DataFrame({"probability": np.linspace(0.01, 0.95, 200),
                        "target": (np.arange(200) % 4 == 0).astype(int)})


def test_a_period_with_too_few_outcomes_gives_the_estimate_only():
    rows = period_rows(30, known=19)
    got = perf.period_report(rows, HOLDOUT, COST, 0.03, min_outcomes=20)
    assert got["status"] == "fewer than 20 known outcomes: estimate only" and "realized" not in got
    assert got["decisions"] == 30 and got["outcomes_known"] == 19 and got["threshold"] == 0.5
    assert got["refusal_rate"] == 0.0 and got["estimate"]["decisions"] == 30
    assert perf.period_report(period_rows(30, known=20), HOLDOUT, COST, 0.03, min_outcomes=20)["status"] == "judged"


def test_a_period_without_a_holdout_or_with_one_that_grants_nobody_is_realized_only():
    rows = period_rows(30, known=30)
    alone = perf.period_report(rows, None, COST, 0.03, min_outcomes=20)
    assert alone["status"] == "realized only: no holdout to compare with" and alone["realized"]["outcomes"] == 30
    refusing = HOLDOUT.assign(probability=0.99)
    got = perf.period_report(rows, refusing, COST, 0.03, min_outcomes=20)
    assert got["status"] == "realized only: the holdout grants no client at this threshold"


def test_a_judged_period_compares_granted_loans_with_the_granted_holdout_and_all_decisions_with_all():
    granted = perf.period_report(period_rows(60, known=60), HOLDOUT, COST, 0.03, min_outcomes=20)
    assert granted["scope"] == "granted loans"
    assert granted["expected"] == perf.holdout_expectation(HOLDOUT, 0.5, COST, granted_only=True)
    assert granted["comparison"]["level_per_test"] == pytest.approx(0.01)
    rows = period_rows(60, known=60, refused_known=True)
    mixed = perf.period_report(rows, HOLDOUT, COST, 0.03, min_outcomes=20)
    assert mixed["estimate"] == perf.estimate(rows["probability"], rows["decision"] == "refusé", COST)
    assert mixed["estimate"]["default_rate_granted"] == pytest.approx(rows["probability"].iloc[1:].mean())
    assert mixed["scope"] == "all decisions" and mixed["refusal_rate"] == pytest.approx(1 / 60)
    assert mixed["expected"] == perf.holdout_expectation(HOLDOUT, 0.5, COST, granted_only=False)
    assert mixed["realized"]["granted"] == 59


def test_realized_performance_reports_each_period_oldest_first():
    rows = decisions_frame(["2026-06-01T00:00:00Z", "2026-04-01T00:00:00Z", "2026-05-01T00:00:00Z"], [0.1, 0.2, 0.3])
    outcomes = pd.DataFrame({"request_id": ["r0"], "target": [0]})
    got = perf.realized_performance(rows, outcomes, None, COST, 0.03, 1, "month")
    assert list(got) == ["2026-04", "2026-05", "2026-06"]
    assert got["2026-06"]["outcomes_known"] == 1 and got["2026-04"]["outcomes_known"] == 0


def judged(auc_worse: bool, cost_worse: bool, outside: bool) -> dict:
    return {"status": "judged", "scope": "granted loans", "realized": {"outcomes": 400, "defaults": 40},
            "comparison": {"level_per_test": 0.01,
                           "auc": {"realized": 0.7012, "expected": 0.75, "p_value": 0.00123, "worse": auc_worse},
                           "cost_per_client": {"realized": 0.5561, "expected": 0.5, "p_value": 0.0042,
                                               "worse": cost_worse},
                           "calibration": {"observed": 0.1, "predicted": 0.0912, "band": [0.0612, 0.1212],
                                           "outside": outside}}}


def test_alerts_name_the_latest_judged_period_with_its_figures():
    periods = {"2026-04": judged(True, True, True), "2026-05": judged(True, True, True),
               "2026-06": {"status": "fewer than 200 known outcomes: estimate only"}}
    assert perf.alerts(periods, 0.03) == [
        "ALERT performance: decisions of 2026-05, realized AUC 0.701 below the expected 0.750 (one-sided "
        "p = 0.0012 < 0.01; 400 known outcomes, 40 defaults, granted loans)",
        "ALERT performance: decisions of 2026-05, cost per client 0.556 above the expected 0.500 (one-sided "
        "p = 0.0042 < 0.01; 400 known outcomes, granted loans)",
        "ALERT calibration: decisions of 2026-05, observed default rate 10.0 % outside the band the served "
        "probabilities predict [6.1 %, 12.1 %] (mean predicted 9.1 %; 400 known outcomes)",
    ]


def test_alerts_stay_quiet_on_what_is_not_worse_and_without_a_judged_period():
    assert perf.alerts({"2026-05": judged(False, False, False)}, 0.03) == []
    only_cost = perf.alerts({"2026-05": judged(False, True, False)}, 0.03)
    assert len(only_cost) == 1 and "cost per client" in only_cost[0]
    no_auc = judged(False, False, True)
    del no_auc["comparison"]["auc"]
    assert [line.split(":")[0] for line in perf.alerts({"2026-05": no_auc}, 0.03)] == ["ALERT calibration"]
    assert perf.alerts({"2026-05": {"status": "realized only: no holdout to compare with"}}, 0.03) == []


def test_a_perfect_expected_auc_has_no_spread_and_so_no_p_value():
    got = perf.compare(realized(), expected(auc=1.0), 0.03)
    assert got["auc"]["se"] == 0.0 and got["auc"]["p_value"] is None and got["auc"]["worse"] is False
    assert got["auc"]["lower_bound"] == 1.0


def test_the_edges_belong_to_the_band_and_to_the_threshold():
    """A holdout client at the threshold is refused (as served); a default rate on the band's edge is inside;
    a p-value equal to the level is not below it."""
    holdout = pd.DataFrame({"probability": [0.5, 0.2], "target": [1, 0]})
    assert perf.holdout_expectation(holdout, 0.5, COST, granted_only=True)["outcomes"] == 1
    base = perf.compare(realized(), expected(), 0.03)
    for edge in base["calibration"]["band"]:
        assert perf.compare(realized(default_rate=edge), expected(), 0.03)["calibration"]["outside"] is False
    p_value = base["cost_per_client"]["p_value"]
    level = p_value * 3
    assert level / 3 == p_value  # the level per test is exactly the p-value
    assert perf.compare(realized(), expected(), level)["cost_per_client"]["worse"] is False
