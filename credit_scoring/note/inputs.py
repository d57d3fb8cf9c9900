"""Writing the note's values and tables to ``note_methodologique/_generated/`` (the note
stage), all Quarto needs besides the figures."""

from __future__ import annotations

from pathlib import Path

import yaml

from credit_scoring.common.params import load_params
from credit_scoring.common.paths import NOTE, PARAMS
from credit_scoring.note.sources import read_reports
from credit_scoring.note.tables import note_tables
from credit_scoring.note.values import note_values
from credit_scoring.note.vocabulary import GENERATED, VALUES_FILE


def write_inputs(note_dir: Path, values: dict, tables: dict[str, str]) -> None:
    out = note_dir / GENERATED
    out.mkdir(parents=True, exist_ok=True)
    (out / VALUES_FILE).write_text(
        "# Written by `python -m stages.note` from reports/: do not edit.\n"
        + yaml.safe_dump({"v": values}, allow_unicode=True, sort_keys=False, width=1000)
    )
    for name, text in tables.items():
        (out / f"{name}.md").write_text(text)


def write_note_inputs(root: Path = Path(".")) -> None:
    """The note's values and tables from ``root/reports`` (all Quarto needs besides the figures)."""
    reports = read_reports(root)
    params = load_params(root / PARAMS)
    write_inputs(root / NOTE, note_values(reports, params), note_tables(reports, params))
