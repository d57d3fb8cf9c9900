"""On the default synthetic data, the history aggregates recover the signal the history tables carry.

Same LightGBM, same rows: all features against the application features alone, scored on the holdout of
the stored split. The data are generated at the size params.yaml sets, as `dvc repro` would.
"""

from __future__ import annotations

from pathlib import Path

import lightgbm as lgb
import pytest
import yaml
from sklearn.metrics import roc_auc_score

from credit_scoring.dataset.preparation import prepare
from credit_scoring.dataset.synthetic.generate import generate
from credit_scoring.features.files import featurize
from credit_scoring.features.history_specs import application_feature_names
from credit_scoring.modeling.training import load_training

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_history_aggregates_add_at_least_two_points_of_auc(tmp_path):
    params = yaml.safe_load((REPO / "params.yaml").read_text())
    sizes = params["data"]["synthetic"]
    generate(sizes["n_clients"], sizes["n_test_clients"], params["seed"], tmp_path / "raw", tmp_path / "truth.csv",
             log=lambda *_: None)
    prepare(tmp_path / "raw", tmp_path / "prepared", params["split"]["holdout_size"], params["seed"],
            tmp_path / "truth.csv")
    featurize(tmp_path / "prepared", tmp_path / "features", tmp_path / "audit.csv", params["featurize"])
    data = load_training(tmp_path / "features" / "train.parquet", tmp_path / "prepared" / "split.parquet")
    application_only = [c for c in data.feature_names if c in set(application_feature_names())]
    assert 200 < len(application_only) < len(data.feature_names) - 300

    def holdout_auc(columns: list[str]) -> float:
        model = lgb.LGBMClassifier(n_estimators=400, learning_rate=0.04, num_leaves=15, min_child_samples=200,
                                   subsample=0.8, subsample_freq=1, colsample_bytree=0.4, reg_lambda=5.0,
                                   random_state=0, verbose=-1, n_jobs=2)
        model.fit(data.X[columns], data.y)
        return roc_auc_score(data.y_holdout, model.predict_proba(data.X_holdout[columns])[:, 1])

    everything, application = holdout_auc(data.feature_names), holdout_auc(application_only)
    assert everything >= application + 0.02, (everything, application)
