"""Quoting for the SQL the stages hand to DuckDB (names and values may come from a user's files)."""

from __future__ import annotations

from pathlib import Path


def quoted(name: str) -> str:
    """A SQL identifier: Kaggle names are safe, but the header of a user's file may not be."""
    return '"' + name.replace('"', '""') + '"'


def literal(value: str | Path | float) -> str:
    """A SQL literal: numbers as written, text and paths in single quotes."""
    if isinstance(value, (int, float)):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"
