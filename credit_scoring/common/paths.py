"""Where every file of the project lives: one home for paths, used by stages, services, benchmarks and tests.

Paths are relative to the project root, the folder holding ``params.yaml`` where DVC runs every stage (tests
run the stages in a scratch project by changing into it). ``dvc.yaml`` names the same paths for DVC;
``tests/test_house.py`` checks that each of its outputs is one of these. Services take their folders from
environment variables whose defaults are these paths.
"""

from __future__ import annotations

from pathlib import Path

PARAMS = Path("params.yaml")

DATA = Path("data")
RAW = DATA / "raw"
SYNTHETIC_RAW = RAW / "synthetic"  # the generator's 8 CSVs
SYNTHETIC_TRUTH = RAW / "synthetic_truth.csv"  # the generator's hidden true probabilities (oracle metrics only)
PREPARED = DATA / "prepared"  # validated, typed tables and the split
SPLIT = PREPARED / "split.parquet"
ORACLE = PREPARED / "oracle_pd.parquet"
APPLICATION_TRAIN = PREPARED / "application_train.parquet"
APPLICATION_TEST = PREPARED / "application_test.parquet"
COLUMNS_DESCRIPTION = PREPARED / "columns_description.parquet"
FEATURES = DATA / "features"  # one row per client
FEATURES_TRAIN = FEATURES / "train.parquet"
FEATURES_TEST = FEATURES / "test.parquet"
BANK_DATABASE = DATA / "bank.duckdb"  # the embedded bank database when DATABASE_URL is not set

MODELS = Path("models")
BASELINE = MODELS / "baseline"  # the baselines' out-of-fold probabilities
BASELINE_OOF = BASELINE / "oof.parquet"
TUNED = MODELS / "tuned"  # the tune stage's choice and its out-of-fold predictions
CHAMPION = MODELS / "champion"  # everything the API needs to score
REFERENCE_SCORES = CHAMPION / "reference_scores.parquet"
EXPLAIN = MODELS / "explain"  # what the API needs to explain a score

REPORTS = Path("reports")
METRICS = REPORTS / "metrics"
TABLES = REPORTS / "tables"
FIGURES = REPORTS / "figures"
PLOTS = REPORTS / "plots"  # curves as data for `dvc plots`
DRIFT_REPORT = REPORTS / "drift"
MONITORING = REPORTS / "monitoring"

NOTE = Path("note_methodologique")


def metrics(stage: str) -> Path:
    """``reports/metrics/<stage>.json``, what ``dvc metrics show`` reads."""
    return METRICS / f"{stage}.json"


def table(name: str) -> Path:
    """``reports/tables/<name>.csv``."""
    return TABLES / f"{name}.csv"


def figure(name: str) -> Path:
    """``reports/figures/<name>.png``."""
    return FIGURES / f"{name}.png"


def plot(name: str) -> Path:
    """``reports/plots/<name>.csv``, a curve `dvc plots` draws."""
    return PLOTS / f"{name}.csv"
