"""Reading params.yaml: the only configuration of the stages."""

from __future__ import annotations

from pathlib import Path

import yaml

from credit_scoring.common.paths import PARAMS


def load_params(path: str | Path = PARAMS) -> dict:
    """The whole params.yaml as a dict (stages pick their own section)."""
    with open(path) as f:
        return yaml.safe_load(f)
