"""The Home Credit tables as data: names, files, columns in Kaggle order, kinds and keys.

Everything that reads or writes a table (generator, prepare, features, API) takes the layout from here,
so that the Kaggle column order and spelling (``AMT_RECIVABLE`` included) live in one place. The facts come
from ``home_credit_schema.json``, measured on real Kaggle rows (aggregates only, no rows).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

SCHEMA_FILE = Path(__file__).with_name("home_credit_schema.json")

SENTINEL_DAYS = 365243
"""Kaggle's placeholder for "no date" in DAYS_EMPLOYED and the DAYS_* columns of previous_application."""

# Columns that hold the 365243 sentinel instead of a real day offset.
SENTINEL_COLUMNS: dict[str, tuple[str, ...]] = {
    "application_train": ("DAYS_EMPLOYED",),
    "application_test": ("DAYS_EMPLOYED",),
    "previous_application": (
        "DAYS_FIRST_DRAWING",
        "DAYS_FIRST_DUE",
        "DAYS_LAST_DUE_1ST_VERSION",
        "DAYS_LAST_DUE",
        "DAYS_TERMINATION",
    ),
}

# Tables whose key identifies an entity: a duplicate there is an error. The monthly tables (balances,
# installments) have composite keys that the real files do not always respect, so duplicates there are
# counted, not fatal.
ENTITY_KEYS: dict[str, str] = {
    "application_train": "SK_ID_CURR",
    "application_test": "SK_ID_CURR",
    "bureau": "SK_ID_BUREAU",
    "previous_application": "SK_ID_PREV",
}

# Foreign keys: (table, column) -> (parent tables, parent column). Rows without a parent are orphans.
FOREIGN_KEYS: dict[tuple[str, str], tuple[tuple[str, ...], str]] = {
    ("bureau", "SK_ID_CURR"): (("application_train", "application_test"), "SK_ID_CURR"),
    ("bureau_balance", "SK_ID_BUREAU"): (("bureau",), "SK_ID_BUREAU"),
    ("previous_application", "SK_ID_CURR"): (("application_train", "application_test"), "SK_ID_CURR"),
    ("POS_CASH_balance", "SK_ID_PREV"): (("previous_application",), "SK_ID_PREV"),
    ("installments_payments", "SK_ID_PREV"): (("previous_application",), "SK_ID_PREV"),
    ("credit_card_balance", "SK_ID_PREV"): (("previous_application",), "SK_ID_PREV"),
}

HISTORY_TABLES = (
    "bureau",
    "bureau_balance",
    "previous_application",
    "POS_CASH_balance",
    "installments_payments",
    "credit_card_balance",
)


@dataclass(frozen=True)
class Column:
    """One column as Kaggle writes it."""

    name: str
    kind: str  # "integer" | "float" | "category"
    written_as: str | None  # "int" | "float" for numbers: how the CSV spells them
    missing_rate: float
    quantiles: tuple[float, ...] | None  # at 0, 1, 25, 50, 75, 99, 100 %
    value_shares: dict[str, float] | None
    distinct: int | None

    @property
    def sql_type(self) -> str:
        """The DuckDB type a prepared table stores: whole numbers stay integers when Kaggle writes them so."""
        if self.kind == "category":
            return "VARCHAR"
        if self.kind == "integer" and self.written_as == "int":
            return "BIGINT"
        return "DOUBLE"


@dataclass(frozen=True)
class Table:
    name: str
    file: str
    full_rows: int
    key: tuple[str, ...]
    columns: tuple[Column, ...]

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"{self.name} has no column {name}")


@cache
def raw_schema() -> dict:
    """The measured facts, as stored (tables, relations, train->test PSI)."""
    return json.loads(SCHEMA_FILE.read_text())


@cache
def tables() -> dict[str, Table]:
    """The eight tables in Kaggle's order, keyed by table name."""
    out = {}
    for name, spec in raw_schema()["tables"].items():
        cols = tuple(
            Column(
                name=col,
                kind=c["kind"],
                written_as=c.get("written_as"),
                missing_rate=c["missing_rate"],
                quantiles=tuple(c["quantiles_0_1_25_50_75_99_100"]) if "quantiles_0_1_25_50_75_99_100" in c else None,
                value_shares=c.get("value_shares"),
                distinct=c.get("distinct"),
            )
            for col, c in spec["columns"].items()
        )
        out[name] = Table(name, spec["file"], spec["rows_in_full_kaggle_file"], tuple(spec["key"]), cols)
    return out


def table(name: str) -> Table:
    return tables()[name]


TABLE_NAMES: tuple[str, ...] = tuple(tables())
