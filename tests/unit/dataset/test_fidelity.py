"""The facts of fidelity.json as the generator's building blocks: quantile functions with point masses and
grains, correlations of normal scores, tetrachoric and polyserial conversions, the AUC <-> correlation curve."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import norm
from sklearn.metrics import roc_auc_score

from credit_scoring.dataset.synthetic import fidelity


def test_marginal_puts_point_masses_exactly_and_in_their_share():
    income = fidelity.marginal("application_train", "AMT_INCOME_TOTAL")
    values = income(np.random.default_rng(0).random(200_000))
    shares = fidelity.facts()["tables"]["application_train"]["numeric_columns"]["AMT_INCOME_TOTAL"]["point_masses"]
    for value, share in shares.items():
        assert abs(np.mean(values == float(value)) - share) < 0.006, value
    assert np.mean(values % 4500 == 0) > 0.8  # real incomes sit on round amounts


def test_marginal_is_monotone_and_follows_the_percentiles():
    m = fidelity.marginal("application_train", "EXT_SOURCE_3")
    u = np.linspace(0.0005, 0.9995, 5000)
    values = m(u)
    assert np.all(np.diff(values) >= 0)
    knots = np.asarray(fidelity.facts()["tables"]["application_train"]["numeric_columns"]["EXT_SOURCE_3"]
                       ["percentiles_0_to_100"])
    drawn = np.percentile(m(np.random.default_rng(1).random(100_000)), [10, 25, 50, 75, 90])
    assert np.allclose(drawn, knots[[10, 25, 50, 75, 90]], atol=0.01)


def test_low_cardinality_columns_take_only_real_values():
    region = fidelity.marginal("application_train", "REGION_POPULATION_RELATIVE")
    values = np.unique(region(np.random.default_rng(2).random(50_000)))
    spec = fidelity.facts()["tables"]["application_train"]["numeric_columns"]["REGION_POPULATION_RELATIVE"]
    known = set(np.round(spec["percentiles_0_to_100"], 6)) | {round(float(v), 6) for v in spec["point_masses"]}
    assert set(np.round(values, 6)) <= known
    assert len(values) <= spec["distinct"]


def test_cdf_inverts_the_quantile_function():
    m = fidelity.marginal("application_train", "DAYS_BIRTH", integer=True)
    u = np.linspace(0.01, 0.99, 99)
    assert np.allclose(m.cdf(m(u)), u, atol=0.01)


def test_derived_revolving_term_has_its_mass_at_twenty():
    term = fidelity.derived("AMT_CREDIT/AMT_ANNUITY")
    values = term(np.random.default_rng(3).random(100_000))
    assert abs(np.mean(values == 20.0) - 0.098) < 0.005


def test_normal_correlation_is_positive_definite_with_unit_diagonal():
    names = ["A", "B", "C"]
    pairs = {("A", "B"): 0.9, ("B", "C"): 0.9, ("A", "C"): -0.9}  # impossible as given
    corr = fidelity.normal_correlation(names, pairs)
    assert np.allclose(np.diag(corr), 1.0)
    assert np.linalg.eigvalsh(corr).min() > 0
    np.linalg.cholesky(corr)


def test_tetrachoric_recovers_the_latent_correlation():
    rng = np.random.default_rng(4)
    z = rng.multivariate_normal([0, 0], [[1, 0.6], [0.6, 1]], size=400_000)
    a, b = z[:, 0] < norm.ppf(0.3), z[:, 1] < norm.ppf(0.5)
    phi = np.corrcoef(a, b)[0, 1]
    assert abs(fidelity.tetrachoric(a.mean(), b.mean(), phi) - 0.6) < 0.05


def test_polyserial_factor_of_a_median_split():
    assert fidelity.polyserial_factor(np.array([0.5, 0.5])) == pytest.approx(np.sqrt(2 / np.pi), abs=1e-6)
    assert fidelity.polyserial_factor(np.array([1.0])) == 0.0


def test_auc_curve_maps_correlation_to_auc_and_back():
    grid, aucs = fidelity.auc_curve(scale=1.2, intercept=-3.0, n=50_000)
    assert aucs[0] == pytest.approx(0.5, abs=0.01) and np.all(np.diff(aucs) > -0.005)
    c = fidelity.auc_to_correlation(0.65, grid, aucs)
    rng = np.random.default_rng(5)
    u, e = rng.standard_normal(200_000), rng.standard_normal(200_000)
    y = rng.random(200_000) < 1 / (1 + np.exp(3.0 - 1.2 * u))
    assert roc_auc_score(y, c * u + np.sqrt(1 - c * c) * e) == pytest.approx(0.65, abs=0.01)
    assert fidelity.continuous_auc(y, u) == pytest.approx(roc_auc_score(y, u), abs=1e-9)
