"""Report tables as the stages write them: CSV, six decimals, the folder made if needed."""

from __future__ import annotations

from pathlib import Path

import pandas as pd


def write_table(path: Path, frame: pd.DataFrame) -> Path:
    """``frame`` (its index left out) as CSV at ``path``, floats to six decimals so reruns diff cleanly."""
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False, float_format="%.6f")
    return path
