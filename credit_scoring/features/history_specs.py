"""The history tables' aggregates per client, as compact specs and the DuckDB SQL they
generate; the feature columns are known from the specs before any row is read."""

from __future__ import annotations

import operator
from collections.abc import Mapping
from dataclasses import dataclass, field

import pandas as pd

from credit_scoring.common.sql import literal, quoted
from credit_scoring.dataset.schema import SENTINEL_COLUMNS, SENTINEL_DAYS, table
from credit_scoring.features.application import (
    KEY,
    application_features,
    category_name,
    category_values,
    empty_application,
)

# ---------------------------------------------------------------------------------------------------------
# History tables: aggregates per client, as DuckDB SQL generated from compact specs.
# ---------------------------------------------------------------------------------------------------------

# Aggregation name -> SQL template. VAR_SAMP matches pandas' var (ddof=1); SUM over no value stays NULL.
AGGREGATIONS = {
    "min": "MIN({})",
    "max": "MAX({})",
    "mean": "AVG({})",
    "sum": "SUM({})",
    "var": "VAR_SAMP({})",
    "nunique": "COUNT(DISTINCT {})",
}
COMPARISONS = {"=": operator.eq, "<=": operator.le, ">=": operator.ge}


@dataclass(frozen=True)
class Where:
    """A row filter kept as data, so that SQL and the pandas reference implementation read the same one."""

    column: str
    op: str
    value: str | float

    def sql(self) -> str:
        return f"{quoted(self.column)} {self.op} {literal(self.value)}"

    def mask(self, frame: pd.DataFrame) -> pd.Series:
        return COMPARISONS[self.op](frame[self.column], self.value).fillna(False).astype(bool)


@dataclass(frozen=True)
class Block:
    """Aggregates over one subset of a source's rows, named <prefix>_<column>_<AGG>.

    `numeric` maps a column to its aggregations; `categories` lists category columns whose share of each
    fixed value is averaged; `count` adds <prefix>_COUNT, the number of rows (0 when the client has rows
    in the table but none in this subset).
    """

    prefix: str
    numeric: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    categories: tuple[str, ...] = ()
    where: Where | None = None
    count: bool = True


@dataclass(frozen=True)
class Source:
    """One aggregation: rows (SQL over the input views and earlier sources), the key they are grouped by,
    the blocks computed, and the has-history flags it yields (name -> SQL aggregate)."""

    name: str
    table: str  # the schema table whose category values the blocks use
    key: str
    rows: str
    blocks: tuple[Block, ...]
    flags: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.blocks[0].where is not None:
            raise ValueError(f"{self.name}: the first block must cover every row (it names the keys)")


def _same(columns: tuple[str, ...] | list[str], aggregations: tuple[str, ...]) -> dict[str, tuple[str, ...]]:
    return dict.fromkeys(columns, aggregations)


def _numeric_history_columns(table_name: str) -> list[str]:
    return [c.name for c in table(table_name).columns if c.kind != "category" and not c.name.startswith("SK_ID")]


def _category_history_columns(table_name: str) -> tuple[str, ...]:
    return tuple(c.name for c in table(table_name).columns if c.kind == "category")


BB_STATUS_SHARES = [f"BB_{category_name('STATUS', v)}_MEAN" for v in category_values("bureau_balance", "STATUS")]

BUREAU_NUMERIC = {
    "DAYS_CREDIT": ("min", "max", "mean", "var"),
    "DAYS_CREDIT_ENDDATE": ("min", "max", "mean"),
    "DAYS_CREDIT_UPDATE": ("mean",),
    "CREDIT_DAY_OVERDUE": ("max", "mean"),
    "AMT_CREDIT_MAX_OVERDUE": ("mean",),
    "AMT_CREDIT_SUM": ("max", "mean", "sum"),
    "AMT_CREDIT_SUM_DEBT": ("max", "mean", "sum"),
    "AMT_CREDIT_SUM_OVERDUE": ("mean",),
    "AMT_CREDIT_SUM_LIMIT": ("mean", "sum"),
    "AMT_ANNUITY": ("max", "mean"),
    "CNT_CREDIT_PROLONG": ("sum",),
    "DEBT_CREDIT_RATIO": ("max", "mean"),
    "BB_MONTHS_BALANCE_MIN": ("min",),
    "BB_MONTHS_BALANCE_MAX": ("max",),
    "BB_COUNT": ("mean", "sum"),
    "BB_DPD_STATUS_MAX": ("max", "mean"),
    "BB_L12_DPD_STATUS_MAX": ("max",),
}

PREVIOUS_NUMERIC = {
    "AMT_ANNUITY": ("min", "max", "mean"),
    "AMT_APPLICATION": ("min", "max", "mean"),
    "AMT_CREDIT": ("min", "max", "mean"),
    "APP_CREDIT_PERC": ("min", "max", "mean", "var"),
    "CREDIT_GOODS_RATIO": ("mean",),
    "AMT_DOWN_PAYMENT": ("min", "max", "mean"),
    "AMT_GOODS_PRICE": ("min", "max", "mean"),
    "HOUR_APPR_PROCESS_START": ("min", "max", "mean"),
    "RATE_DOWN_PAYMENT": ("min", "max", "mean"),
    "DAYS_DECISION": ("min", "max", "mean"),
    "CNT_PAYMENT": ("mean", "sum"),
    "DAYS_LAST_DUE_1ST_VERSION": ("max", "mean"),
    "DAYS_TERMINATION": ("max", "mean"),
}

INSTALMENT_NUMERIC = {
    "NUM_INSTALMENT_VERSION": ("nunique",),
    "DPD": ("max", "mean", "sum"),
    "DBD": ("max", "mean", "sum"),
    "LATE": ("mean", "sum"),
    "PAYMENT_PERC": ("max", "mean", "sum", "var"),
    "PAYMENT_DIFF": ("max", "mean", "sum", "var"),
    "AMT_INSTALMENT": ("max", "mean", "sum"),
    "AMT_PAYMENT": ("min", "max", "mean", "sum"),
    "DAYS_ENTRY_PAYMENT": ("max", "mean", "sum"),
}

CREDIT_CARD_NUMERIC = {
    **_same(_numeric_history_columns("credit_card_balance"), ("min", "max", "mean", "sum", "var")),
    "UTILISATION": ("max", "mean", "var"),
    "PAYMENT_MIN_RATIO": ("min", "mean"),
    "LATE": ("mean",),
}

SENTINEL_TO_NULL = ", ".join(
    f"NULLIF({quoted(c)}, {SENTINEL_DAYS}) AS {quoted(c)}" for c in SENTINEL_COLUMNS["previous_application"]
)

SOURCES: tuple[Source, ...] = (
    Source(
        name="bureau_credit",
        table="bureau_balance",
        key="SK_ID_BUREAU",
        # Status '0'..'5' is the DPD bucket of the month; 'C' (closed) and 'X' (unknown) carry no DPD.
        rows="SELECT *, TRY_CAST(STATUS AS INTEGER) AS DPD_STATUS FROM bureau_balance",
        blocks=(
            Block("BB", {"MONTHS_BALANCE": ("min", "max"), "DPD_STATUS": ("max",)}, categories=("STATUS",)),
            Block("BB_L12", {"DPD_STATUS": ("max",)}, where=Where("MONTHS_BALANCE", ">=", -12), count=False),
        ),
    ),
    Source(
        name="bureau",
        table="bureau",
        key=KEY,
        rows="""SELECT b.*, c.* EXCLUDE (SK_ID_BUREAU),
                b.AMT_CREDIT_SUM_DEBT / NULLIF(b.AMT_CREDIT_SUM, 0) AS DEBT_CREDIT_RATIO
                FROM bureau b LEFT JOIN agg_bureau_credit c USING (SK_ID_BUREAU)""",
        blocks=(
            Block(
                "BURO",
                {**BUREAU_NUMERIC, **_same(BB_STATUS_SHARES, ("mean",))},
                categories=_category_history_columns("bureau"),
            ),
            Block("ACTIVE", BUREAU_NUMERIC, where=Where("CREDIT_ACTIVE", "=", "Active")),
            Block("CLOSED", BUREAU_NUMERIC, where=Where("CREDIT_ACTIVE", "=", "Closed")),
        ),
        flags={"HAS_BUREAU": "1", "HAS_BUREAU_BALANCE": "MAX(CASE WHEN BB_COUNT IS NULL THEN 0 ELSE 1 END)"},
    ),
    Source(
        name="previous_application",
        table="previous_application",
        key=KEY,
        rows=f"""SELECT * REPLACE ({SENTINEL_TO_NULL}),
                 AMT_APPLICATION / NULLIF(AMT_CREDIT, 0) AS APP_CREDIT_PERC,
                 AMT_CREDIT / NULLIF(AMT_GOODS_PRICE, 0) AS CREDIT_GOODS_RATIO,
                 ROW_NUMBER() OVER (PARTITION BY SK_ID_CURR ORDER BY DAYS_DECISION DESC, SK_ID_PREV DESC)
                   AS RECENCY_RANK
                 FROM previous_application""",
        blocks=(
            Block("PREV", PREVIOUS_NUMERIC, categories=_category_history_columns("previous_application")),
            Block("APPROVED", PREVIOUS_NUMERIC, where=Where("NAME_CONTRACT_STATUS", "=", "Approved")),
            Block("REFUSED", PREVIOUS_NUMERIC, where=Where("NAME_CONTRACT_STATUS", "=", "Refused")),
            Block(
                "PREV_L3",
                _same(("AMT_CREDIT", "APP_CREDIT_PERC", "DAYS_DECISION", "CNT_PAYMENT"), ("mean",)),
                categories=("NAME_CONTRACT_STATUS",),
                where=Where("RECENCY_RANK", "<=", 3),
            ),
        ),
        flags={"HAS_PREVIOUS_APPLICATION": "1"},
    ),
    Source(
        name="pos_cash",
        table="POS_CASH_balance",
        key=KEY,
        rows="SELECT *, CAST(SK_DPD > 0 AS DOUBLE) AS LATE FROM POS_CASH_balance",
        blocks=(
            Block(
                "POS",
                {
                    "MONTHS_BALANCE": ("max", "mean"),
                    "CNT_INSTALMENT": ("max", "mean"),
                    "CNT_INSTALMENT_FUTURE": ("min", "mean"),
                    **_same(("SK_DPD", "SK_DPD_DEF"), ("max", "mean")),
                    "LATE": ("mean",),
                },
                categories=("NAME_CONTRACT_STATUS",),
            ),
            Block(
                "POS_L12",
                {**_same(("SK_DPD", "SK_DPD_DEF"), ("max", "mean")), "LATE": ("mean",)},
                where=Where("MONTHS_BALANCE", ">=", -12),
            ),
        ),
        flags={"HAS_POS_CASH": "1"},
    ),
    Source(
        name="installments",
        table="installments_payments",
        key=KEY,
        # Days past due and before due are clipped at 0; an instalment not yet paid keeps them missing.
        rows="""SELECT *, AMT_PAYMENT / NULLIF(AMT_INSTALMENT, 0) AS PAYMENT_PERC,
                AMT_INSTALMENT - AMT_PAYMENT AS PAYMENT_DIFF,
                CASE WHEN DAYS_ENTRY_PAYMENT < DAYS_INSTALMENT THEN 0
                     ELSE DAYS_ENTRY_PAYMENT - DAYS_INSTALMENT END AS DPD,
                CASE WHEN DAYS_INSTALMENT < DAYS_ENTRY_PAYMENT THEN 0
                     ELSE DAYS_INSTALMENT - DAYS_ENTRY_PAYMENT END AS DBD,
                CAST(DAYS_ENTRY_PAYMENT > DAYS_INSTALMENT AS DOUBLE) AS LATE
                FROM installments_payments""",
        blocks=(
            Block("INSTAL", INSTALMENT_NUMERIC),
            Block(
                "INSTAL_L365",
                {"DPD": ("max", "mean"), "DBD": ("mean",), "LATE": ("mean",), "PAYMENT_PERC": ("mean",),
                 "PAYMENT_DIFF": ("mean", "sum"), "AMT_PAYMENT": ("sum",)},
                where=Where("DAYS_INSTALMENT", ">=", -365),
            ),
        ),
        flags={"HAS_INSTALLMENTS": "1"},
    ),
    Source(
        name="credit_card",
        table="credit_card_balance",
        key=KEY,
        rows="""SELECT *, AMT_BALANCE / NULLIF(AMT_CREDIT_LIMIT_ACTUAL, 0) AS UTILISATION,
                AMT_PAYMENT_TOTAL_CURRENT / NULLIF(AMT_INST_MIN_REGULARITY, 0) AS PAYMENT_MIN_RATIO,
                CAST(SK_DPD > 0 AS DOUBLE) AS LATE
                FROM credit_card_balance""",
        blocks=(
            Block("CC", CREDIT_CARD_NUMERIC, categories=("NAME_CONTRACT_STATUS",)),
            Block(
                "CC_L12",
                {"UTILISATION": ("max", "mean"), "AMT_BALANCE": ("mean",), "AMT_DRAWINGS_CURRENT": ("mean", "sum"),
                 "SK_DPD": ("max",), "LATE": ("mean",)},
                where=Where("MONTHS_BALANCE", ">=", -12),
            ),
        ),
        flags={"HAS_CREDIT_CARD": "1"},
    ),
)

# The has-history flag of each history table, as the metrics and the API name them.
HISTORY_FLAGS = {
    "bureau": "HAS_BUREAU",
    "bureau_balance": "HAS_BUREAU_BALANCE",
    "previous_application": "HAS_PREVIOUS_APPLICATION",
    "POS_CASH_balance": "HAS_POS_CASH",
    "installments_payments": "HAS_INSTALLMENTS",
    "credit_card_balance": "HAS_CREDIT_CARD",
}


@dataclass(frozen=True)
class Aggregate:
    """One aggregate column: `func` of `column` (or the share of rows whose category `column` is `value`,
    None meaning missing). Kept as data so that the pandas reference implementation reads it too."""

    name: str
    func: str  # "count", "share", or a key of AGGREGATIONS
    column: str | None = None
    value: str | None = None

    @property
    def counts_rows(self) -> bool:
        """Counts are 0, not missing, for a client with rows in the table but none in the block's subset."""
        return self.func in ("count", "nunique")

    def sql(self) -> str:
        if self.func == "count":
            return "COUNT(*)"
        if self.func == "share":
            column = quoted(self.column)
            hit = f"{column} IS NULL" if self.value is None else f"{column} = {literal(self.value)}"
            return f"AVG(CASE WHEN {hit} THEN 1.0 ELSE 0.0 END)"
        return AGGREGATIONS[self.func].format(quoted(self.column))


def block_aggregates(block: Block, table_name: str) -> list[Aggregate]:
    """The aggregates of one block, in a fixed order: row count, numeric columns, category shares."""
    out = [Aggregate(f"{block.prefix}_COUNT", "count")] if block.count else []
    for column, aggregations in block.numeric.items():
        out += [Aggregate(f"{block.prefix}_{column}_{agg.upper()}", agg, column) for agg in aggregations]
    for column in block.categories:
        for value in category_values(table_name, column):
            out.append(Aggregate(f"{block.prefix}_{category_name(column, value)}_MEAN", "share", column, value))
    return out


def source_columns(source: Source) -> list[str]:
    """Every column a source yields besides its key: flags first, then the blocks in order."""
    return list(source.flags) + [a.name for b in source.blocks for a in block_aggregates(b, source.table)]


def _select(named_sql: list[tuple[str, str]]) -> str:
    return ", ".join(f"{sql} AS {quoted(name)}" for name, sql in named_sql)


def source_sql(source: Source, rows: str) -> str:
    """One row per key of the `rows` table: the flags, then each block.

    Each block is its own GROUP BY (with WHERE rather than FILTER) joined on the key: DuckDB aggregates
    several narrow blocks much faster than one query with hundreds of aggregates per group. The first
    block covers every row, so it carries the flags and the full set of keys.
    """
    key = source.key
    ctes, columns = [], []
    for i, block in enumerate(source.blocks):
        aggregates = block_aggregates(block, source.table)
        named = (list(source.flags.items()) if i == 0 else []) + [(a.name, a.sql()) for a in aggregates]
        where = f" WHERE {block.where.sql()}" if block.where else ""
        ctes.append(f"b{i} AS (SELECT {key}, {_select(named)} FROM {rows}{where} GROUP BY {key})")
        columns += [f"b0.{quoted(name)}" for name in source.flags] if i == 0 else []
        for a in aggregates:
            column = f"b{i}.{quoted(a.name)}"
            columns.append(f"COALESCE({column}, 0) AS {quoted(a.name)}" if a.counts_rows else column)
    joins = " ".join(f"LEFT JOIN b{i} USING ({key})" for i in range(1, len(source.blocks)))
    return f"WITH {', '.join(ctes)} SELECT b0.{key}, {', '.join(columns)} FROM b0 {joins}"


CLIENT_SOURCES = tuple(s for s in SOURCES if s.key == KEY)


def history_feature_names() -> list[str]:
    return [name for source in CLIENT_SOURCES for name in source_columns(source)]


def application_feature_names() -> list[str]:
    return list(application_features(empty_application()).columns)


def feature_columns() -> list[str]:
    """Every feature, in the order of the feature files and of a served vector."""
    return application_feature_names() + history_feature_names()
