"""The threshold stage's curves as data for `dvc plots`: fixed grids, the values the figures show."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from sklearn.metrics import auc, roc_auc_score

from credit_scoring.modeling.cost import THRESHOLD_GRID, best_threshold
from credit_scoring.modeling.dvc_plots import (
    GRID,
    calibration_points,
    cost_points,
    precision_recall_points,
    roc_points,
    write_plot_data,
)


@pytest.fixture(scope="module")
def scored():
    rng = np.random.default_rng(3)
    p = rng.beta(1.2, 12, 20_000)
    return (rng.random(len(p)) < p).astype(int), p


def test_roc_rows_follow_the_grid_and_keep_the_area(scored):
    y, p = scored
    roc = roc_points(y, p)
    assert list(roc["taux_faux_positifs"]) == list(GRID)
    assert roc["taux_vrais_positifs"].is_monotonic_increasing and roc["taux_vrais_positifs"].iloc[-1] == 1
    assert auc(roc["taux_faux_positifs"], roc["taux_vrais_positifs"]) == pytest.approx(roc_auc_score(y, p), abs=0.005)


def test_precision_is_the_best_reached_at_each_recall_or_above(scored):
    y, p = scored
    pr = precision_recall_points(y, p)
    assert list(pr["rappel"]) == list(GRID) and pr["precision"].is_monotonic_decreasing
    assert pr["precision"].iloc[-1] == pytest.approx(y.mean(), abs=0.01)  # every client refused: the base rate


def test_cost_rows_give_the_chosen_threshold_and_calibration_the_deciles(scored):
    y, p = scored
    cost = cost_points(y, p, {"fn": 10, "fp": 1})
    assert list(cost["seuil"]) == list(THRESHOLD_GRID)
    threshold, least = best_threshold(y, p, 10, 1)
    assert cost.loc[cost["cout_par_client"].idxmin(), "seuil"] == threshold
    assert cost["cout_par_client"].min() == pytest.approx(least)
    calibration = calibration_points(y, p)
    assert len(calibration) == 10 and calibration["probabilite_predite"].is_monotonic_increasing
    assert np.abs(calibration["probabilite_predite"] - calibration["taux_de_defaut_observe"]).max() < 0.03


def test_the_four_files_are_written_where_dvc_yaml_draws_them(scored, tmp_path, monkeypatch):
    y, p = scored
    monkeypatch.chdir(tmp_path)
    written = write_plot_data(pd.DataFrame({"TARGET": y, "proba": p}), {"fn": 10, "fp": 1}, y, p)
    assert [str(w) for w in written] == [f"reports/plots/{n}.csv" for n in ("cost", "roc", "precision_recall",
                                                                             "calibration")]
    plots = yaml.safe_load((Path(__file__).resolve().parents[3] / "dvc.yaml").read_text())["plots"]
    drawn = {(file, column) for spec in plots for plot in spec.values() for axis in ("x", "y")
             for file, column in plot[axis].items()}
    for file, column in drawn:
        assert column in pd.read_csv(tmp_path / file).columns
    assert {file for file, _ in drawn} == {str(w) for w in written}
