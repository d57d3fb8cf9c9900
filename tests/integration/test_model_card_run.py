"""The model card logged to MLflow on the run that registered the champion."""


import pytest

from credit_scoring.governance import model_card as M
from tests.unit.governance.test_model_card import _register_champion


@pytest.mark.slow
def test_the_card_is_logged_on_the_run_that_registered_the_champion(tmp_path, monkeypatch):
    import mlflow

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    run_id = _register_champion(uri)
    card = tmp_path / "model_card.md"
    card.write_text("# Model card\n")
    assert M.log_model_card(card, expected_version="2") is None  # the card describes another version
    assert M.log_model_card(card, expected_version="1") == f"runs:/{run_id}/model_card.md"
    client = mlflow.MlflowClient(uri)
    assert "model_card.md" in [a.path for a in client.list_artifacts(run_id)]
    version = client.get_model_version_by_alias("home-credit-scoring", "champion")
    assert version.tags[M.TAG] == f"runs:/{run_id}/model_card.md"
