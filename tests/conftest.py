"""Shared fixtures: the real Kaggle sample lives outside the repo and is read in place, never copied in."""

from pathlib import Path

import pytest

SAMPLE_DIR = Path(__file__).resolve().parents[2] / "shared/home_credit/sample"


@pytest.fixture
def sample_dir() -> Path:
    """The folder of real sample CSVs; tests that need it are skipped, visibly, on machines without it."""
    if not SAMPLE_DIR.is_dir():
        pytest.skip(f"real Home Credit sample not found at {SAMPLE_DIR}")
    return SAMPLE_DIR
