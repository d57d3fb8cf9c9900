"""The note stage as a command (`python -m stages.note`): with --inputs-only, and in full, rendering the note,
writing the model card and logging it on the champion's MLflow run."""

from __future__ import annotations

import json

from credit_scoring.common.paths import NOTE
from credit_scoring.note.vocabulary import (
    GENERATED,
)
from tests.unit.note.test_note import REPO, copy_of_the_repository


def test_the_stage_command_writes_only_the_inputs_with_inputs_only(tmp_path):
    """`python -m stages.note --inputs-only` (Quarto's pre-render step): the generated values and tables, from the
    reports, and neither a PDF nor a model card."""
    import os
    import subprocess
    import sys

    root = copy_of_the_repository(tmp_path)
    card = root / "reports" / "model_card.md"
    card_before = card.read_bytes()
    env = {**os.environ, "PYTHONPATH": str(REPO), "MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path / 'mlflow.db'}"}
    done = subprocess.run([sys.executable, "-m", "stages.note", "--inputs-only"], cwd=root, env=env,
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    generated = root / NOTE / GENERATED
    assert f"wrote {NOTE / GENERATED}" in done.stdout
    written = sorted(p.name for p in generated.iterdir())
    assert "recherche.md" in written and len(written) > 3, written
    assert not (root / NOTE / "note.pdf").exists() and card.read_bytes() == card_before
    assert not (tmp_path / "mlflow.db").exists()  # nothing logged
    refused = subprocess.run([sys.executable, "-m", "stages.note", "--inputs-only", "--pandoc"], cwd=root, env=env,
                             capture_output=True, text=True, timeout=300, check=False)
    assert refused.returncode == 2 and "not allowed with argument" in refused.stderr


def test_the_stage_command_renders_the_note_writes_the_card_and_logs_it_on_the_champion(tmp_path, monkeypatch):
    """`python -m stages.note --pandoc` as `dvc repro` runs it: the PDF, the model card for the version the reports
    describe, and the card logged on the MLflow run that registered that champion."""
    import os
    import subprocess
    import sys

    import mlflow

    from credit_scoring.governance.model_card import TAG
    from tests.unit.governance.test_model_card import _register_champion

    root = copy_of_the_repository(tmp_path)
    (root / "reports" / "model_card.md").unlink()
    version = int(json.loads((root / "reports" / "metrics" / "explain.json").read_text())["model_version"])
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.chdir(tmp_path)
    run_ids = [_register_champion(uri) for _ in range(version)]  # the champion is then version `version`
    env = {**os.environ, "PYTHONPATH": str(REPO), "MLFLOW_TRACKING_URI": uri}
    done = subprocess.run([sys.executable, "-m", "stages.note", "--pandoc"], cwd=root, env=env, capture_output=True,
                          text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert (root / NOTE / "note.pdf").stat().st_size > 50_000
    card = (root / "reports" / "model_card.md").read_text()
    assert card.startswith(f"# Model card: home-credit-scoring version {version} (alias `champion`)")
    logged = f"runs:/{run_ids[-1]}/model_card.md"
    assert f"logged the model card to MLflow: {logged}" in done.stdout
    client = mlflow.MlflowClient(uri)
    assert "model_card.md" in [a.path for a in client.list_artifacts(run_ids[-1])]
    assert client.get_model_version_by_alias("home-credit-scoring", "champion").tags[TAG] == logged
