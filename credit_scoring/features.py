"""Feature engineering shared by training (the featurize stage) and serving (the API).

One code path for every use: the application table goes through the pure pandas function
`application_features`, the six history tables through DuckDB SQL generated from the compact specs in
`SOURCES` (`history_aggregates`, or `connect`, `build_history` and `aggregates`), and `assemble` joins both. The batch stage runs it on
the full prepared tables. The API runs the same `application_features` on the fields a request sends (through
`application_frame`) and takes the history half from the stage's aggregates, or from `history_features` over the
bank database's history tables, so a served client gets exactly its training-time vector.

Choices that keep the feature matrix safe and stable:
- the columns never depend on the data seen: one-hot columns come from the schema's fixed category lists
  and aggregate columns from the specs, so `feature_columns()` is known before any row is read;
- names keep only [A-Za-z0-9_], because LightGBM refuses special JSON characters in feature names;
- ids and the target never enter the features; missing history stays missing (NaN) and each history
  table gets a has-history flag (0/1, never missing) so that "no record" and "zero" stay distinct;
- the 365243 "no date" sentinel becomes missing before any arithmetic touches it.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from credit_scoring.duckdb_workers import on_own_databases
from credit_scoring.schema import HISTORY_TABLES, SENTINEL_COLUMNS, SENTINEL_DAYS, table
from credit_scoring.sql import literal, quoted

KEY = "SK_ID_CURR"
TARGET = "TARGET"
DAYS_PER_YEAR = 365.25

# Binary categories become one 0/1 column named after the value coded 1; other values (CODE_GENDER's XNA)
# become missing rather than silently joining either side.
BINARY_CATEGORIES = {"CODE_GENDER": ("M", "F"), "FLAG_OWN_CAR": ("Y", "N"), "FLAG_OWN_REALTY": ("Y", "N")}

# Weights of the external scores in their weighted mean, as in the public Home Credit kernels: the third
# score separates best, the second is almost never missing.
EXT_SOURCE_WEIGHTS = {"EXT_SOURCE_1": 2.0, "EXT_SOURCE_2": 1.0, "EXT_SOURCE_3": 3.0}


def sanitize(name: str) -> str:
    """A feature name LightGBM accepts: every run of characters outside [A-Za-z0-9_] becomes one '_'."""
    return re.sub(r"_+", "_", re.sub(r"[^A-Za-z0-9_]+", "_", name)).strip("_")


def category_values(table_name: str, column: str) -> tuple[str | None, ...]:
    """The fixed values one-hot encoded for a category column: the schema's values, then None (missing)
    when the column can be missing in any table that shares its name and layout (train and test)."""
    values = tuple(table(table_name).column(column).value_shares)
    siblings = ("application_train", "application_test") if table_name.startswith("application") else (table_name,)
    can_be_missing = any(table(t).column(column).missing_rate > 0 for t in siblings)
    return values + ((None,) if can_be_missing else ())


def category_name(column: str, value: str | None) -> str:
    return sanitize(f"{column}_{'nan' if value is None else value}")


# ---------------------------------------------------------------------------------------------------------
# Application table: pure pandas, row by row, so one client and the whole table take the same arithmetic.
# ---------------------------------------------------------------------------------------------------------

APPLICATION = table("application_test")  # the serving input: the training layout without TARGET


def _numeric_columns() -> list[str]:
    return [c.name for c in APPLICATION.columns if c.kind != "category" and c.name != KEY]


def _category_columns() -> list[str]:
    return [c.name for c in APPLICATION.columns if c.kind == "category" and c.name not in BINARY_CATEGORIES]


def ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """A ratio that is missing, not infinite, when the denominator is zero."""
    return numerator / np.where(denominator != 0, denominator, np.nan)


def _row_sum(values: np.ndarray, min_count: int = 0) -> np.ndarray:
    """Sum across columns skipping missing values, as pandas' sum(axis=1, min_count=...)."""
    present = ~np.isnan(values)
    total = np.where(present, values, 0.0).sum(axis=1)
    return np.where(present.sum(axis=1) >= min_count, total, np.nan)


def _numbers(app: pd.DataFrame) -> dict[str, np.ndarray]:
    """The numeric columns as float64 arrays, with the 365243 sentinel made missing. Plain NumPy throughout:
    column-by-column pandas operations cost milliseconds per served row."""
    columns = _numeric_columns()
    frame = app[columns]
    text = [c for c, dtype in frame.dtypes.items() if not pd.api.types.is_numeric_dtype(dtype)]
    if text:  # served rows whose types pandas could not infer (all None, or numbers sent as text)
        frame = frame.assign(**{c: pd.to_numeric(frame[c]) for c in text})
    values = np.array(frame.to_numpy(dtype="float64", na_value=np.nan).T, order="C")  # a copy, a column per row
    num = dict(zip(columns, values))
    for column in SENTINEL_COLUMNS["application_train"]:
        num[column][num[column] == SENTINEL_DAYS] = np.nan
    return num


def _objects(app: pd.DataFrame, column: str) -> tuple[np.ndarray, np.ndarray]:
    """A category column as a NumPy object array and its missing mask (NumPy compares a few rows ~50x faster
    than pandas' string arrays)."""
    values = app[column].to_numpy(dtype=object)
    return values, pd.isna(values)


def _binaries(app: pd.DataFrame) -> dict[str, np.ndarray]:
    out = {}
    for column, (one, zero) in BINARY_CATEGORIES.items():
        values, _ = _objects(app, column)
        known = (values == one) | (values == zero)
        out[sanitize(f"{column}_{one}")] = np.where(known, (values == one).astype("float64"), np.nan)
    return out


@cache
def _one_hot_columns() -> tuple[tuple[str, tuple[tuple[str | None, str], ...]], ...]:
    """(column, ((value, feature name), ...)) for every one-hot encoded column, computed once."""
    return tuple(
        (column, tuple((value, category_name(column, value)) for value in category_values("application_train", column)))
        for column in _category_columns()
    )


def _one_hot(app: pd.DataFrame) -> dict[str, np.ndarray]:
    out = {}
    for column, encoded in _one_hot_columns():
        values, missing = _objects(app, column)
        for value, name in encoded:
            out[name] = (missing if value is None else values == value).astype("float64")
    return out


def _domain(app: pd.DataFrame, num: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Ratios an underwriter would compute: burden of the loan on income, share of life employed, etc."""
    documents = np.column_stack([v for c, v in num.items() if c.startswith("FLAG_DOCUMENT_")])
    enquiries = np.column_stack([v for c, v in num.items() if c.startswith("AMT_REQ_CREDIT_BUREAU_")])
    return {
        "AGE_YEARS": -num["DAYS_BIRTH"] / DAYS_PER_YEAR,
        "EMPLOYED_YEARS": -num["DAYS_EMPLOYED"] / DAYS_PER_YEAR,
        "DAYS_EMPLOYED_SENTINEL": (pd.to_numeric(app["DAYS_EMPLOYED"]) == SENTINEL_DAYS).to_numpy("float64"),
        "EMPLOYED_AGE_RATIO": ratio(num["DAYS_EMPLOYED"], num["DAYS_BIRTH"]),
        "CREDIT_INCOME_RATIO": ratio(num["AMT_CREDIT"], num["AMT_INCOME_TOTAL"]),
        "ANNUITY_INCOME_RATIO": ratio(num["AMT_ANNUITY"], num["AMT_INCOME_TOTAL"]),
        "PAYMENT_RATE": ratio(num["AMT_ANNUITY"], num["AMT_CREDIT"]),
        "GOODS_CREDIT_RATIO": ratio(num["AMT_GOODS_PRICE"], num["AMT_CREDIT"]),
        "INCOME_PER_FAMILY_MEMBER": ratio(num["AMT_INCOME_TOTAL"], num["CNT_FAM_MEMBERS"]),
        "DOCUMENT_COUNT": _row_sum(documents, min_count=1),
        "BUREAU_ENQUIRY_COUNT": _row_sum(enquiries, min_count=1),
    }


def _external_scores(num: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Combinations of the three external scores, the strongest application signals; each uses the scores
    present (EXT_SOURCE_1 is missing for over half the clients) except the product, which needs all three.
    The arithmetic is pandas' own (skipping missing values, sample standard deviation), in NumPy."""
    scores = np.column_stack([num[c] for c in EXT_SOURCE_WEIGHTS])
    weights = np.array(list(EXT_SOURCE_WEIGHTS.values()))
    present = ~np.isnan(scores)
    count = present.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = _row_sum(scores) / count
        squares = np.where(present, (mean[:, None] - scores) ** 2, 0.0).sum(axis=1)
        std = np.sqrt(np.where(count > 1, squares / (count - 1), np.nan))
    filled_low = np.where(present, scores, np.inf).min(axis=1)
    filled_high = np.where(present, scores, -np.inf).max(axis=1)
    return {
        "EXT_SOURCE_MEAN": np.where(count > 0, mean, np.nan),
        "EXT_SOURCE_MIN": np.where(count > 0, filled_low, np.nan),
        "EXT_SOURCE_MAX": np.where(count > 0, filled_high, np.nan),
        "EXT_SOURCE_STD": std,
        "EXT_SOURCE_PROD": scores.prod(axis=1),
        "EXT_SOURCE_WEIGHTED": ratio(_row_sum(scores * weights), (present * weights).sum(axis=1)),
    }


def application_features(app: pd.DataFrame) -> pd.DataFrame:
    """Features of application rows (train, test or one served client), indexed by SK_ID_CURR.

    Raises if a column of the application layout is absent: a silently missing input would be served as
    "unknown" while the model learnt it as known.
    """
    absent = [c for c in APPLICATION.column_names if c not in app.columns]
    if absent:
        raise KeyError(f"application rows lack columns {absent}")
    num = _numbers(app)
    parts = {**num, **_binaries(app), **_one_hot(app), **_domain(app, num), **_external_scores(num)}
    index = pd.Index(pd.to_numeric(app[KEY]).astype("int64").to_numpy(), name=KEY)
    matrix = np.empty((len(parts), len(index)))  # one feature per row: pandas keeps it as one block, uncopied
    for row, values in zip(matrix, parts.values()):
        row[:] = values
    return pd.DataFrame(matrix.T, index=index, columns=list(parts), copy=False)


def empty_application() -> pd.DataFrame:
    """Zero application rows in the serving layout, typed as the prepared tables are."""
    return pd.DataFrame({c.name: pd.Series(dtype=_pandas_dtype(c.sql_type)) for c in APPLICATION.columns})


def application_frame(records: list[Mapping]) -> pd.DataFrame:
    """Served applications (dicts keyed by Kaggle column names; absent or None means missing) as rows typed like
    the prepared tables: numbers as float64 and text as objects, whatever JSON gave, so that pandas never has to
    guess a column's type from a few values. Two blocks, not one array per column: a served row costs ~0.3 ms."""
    texts = [c.name for c in APPLICATION.columns if c.kind == "category"]
    numbers = [c.name for c in APPLICATION.columns if c.kind != "category"]
    number_rows = [[record.get(name) for name in numbers] for record in records]
    text_rows = [[record.get(name) for name in texts] for record in records]
    return pd.concat([
        pd.DataFrame(np.array(number_rows, dtype="float64").reshape(len(records), len(numbers)), columns=numbers),
        pd.DataFrame(np.array(text_rows, dtype=object).reshape(len(records), len(texts)), columns=texts, dtype=object),
    ], axis=1)


def _pandas_dtype(sql_type: str) -> str:
    return {"VARCHAR": "object", "BIGINT": "int64", "DOUBLE": "float64"}[sql_type]


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
    return {c: aggregations for c in columns}


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


# ---------------------------------------------------------------------------------------------------------
# Running it: typed input views, aggregate tables, and the join with the application features.
# ---------------------------------------------------------------------------------------------------------

TableInput = pd.DataFrame | str | Path | None


def _typed_view(con: duckdb.DuckDBPyConnection, name: str, data: TableInput) -> None:
    """Expose a history table as a view with the schema's columns and types, whatever it came from
    (parquet file, a frame of a few served rows whose types pandas guessed, or nothing at all)."""
    columns = table(name).columns
    if data is None or (isinstance(data, pd.DataFrame) and data.empty):
        select = ", ".join(f"CAST(NULL AS {c.sql_type}) AS {quoted(c.name)}" for c in columns)
        con.execute(f"CREATE OR REPLACE VIEW {quoted(name)} AS SELECT {select} WHERE FALSE")
        return
    if isinstance(data, pd.DataFrame):
        absent = [c.name for c in columns if c.name not in data.columns]
        if absent:
            raise KeyError(f"{name} rows lack columns {absent}")
        # Copied into the database (not merely registered) so that every cursor sees it.
        con.register("frame", data)
        con.execute(f"CREATE OR REPLACE TABLE {quoted('input_' + name)} AS SELECT * FROM frame")
        con.unregister("frame")
        source = quoted(f"input_{name}")
    else:
        source = f"read_parquet({literal(str(data))})"
    select = ", ".join(f"CAST({quoted(c.name)} AS {c.sql_type}) AS {quoted(c.name)}" for c in columns)
    con.execute(f"CREATE OR REPLACE VIEW {quoted(name)} AS SELECT {select} FROM {source}")


def connect(history: Mapping[str, TableInput], memory_limit: str | None = None) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB database with the six history tables as typed views (absent ones empty).

    Each query runs on one DuckDB thread, so the features are bit-for-bit the same from run to run: a
    parallel aggregation combines partial sums in whatever order its threads finish, which moves the last
    bits of sums, means and variances (and the feature file's hash). `history_aggregates` gets its
    parallelism by running independent sources in separate databases instead. One client's rows alone
    give its batch values exactly on small tables; on tables of millions of rows the hash aggregation may
    add a client's rows in partial sums, so those can differ in the last bits (about 1e-15 relative), never
    more.
    """
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    con.execute("SET threads = 1")
    if memory_limit:
        con.execute(f"SET memory_limit = {literal(memory_limit)}")
    for name in HISTORY_TABLES:
        _typed_view(con, name, history.get(name))
    return con


def _chains() -> list[list[Source]]:
    """The sources grouped so that a source comes after the ones whose aggregates its rows read."""
    chains: list[list[Source]] = []
    for source in SOURCES:
        needs = [c for c in chains if any(f"agg_{s.name}" in source.rows for s in c)]
        if needs:
            needs[0].append(source)
        else:
            chains.append([source])
    return chains


def _build_chain(con: duckdb.DuckDBPyConnection, chain: list[Source]) -> None:
    for source in chain:
        con.execute(f"CREATE OR REPLACE VIEW rows_{source.name} AS {source.rows}")
        con.execute(f"CREATE OR REPLACE TABLE agg_{source.name} AS {source_sql(source, f'rows_{source.name}')}")


def build_history(con: duckdb.DuckDBPyConnection) -> None:
    """Aggregate every history table once into tables agg_<source>, read back by `aggregates`. A source's
    derived rows stay a view: recomputing them per block is cheaper than materialising tens of millions of
    rows."""
    for chain in _chains():
        _build_chain(con, chain)


def aggregates(con: duckdb.DuckDBPyConnection, sources: Iterable[Source] = CLIENT_SOURCES) -> dict[str, pd.DataFrame]:
    """The per-client aggregate tables `build_history` left in `con`, as float64 frames indexed by
    SK_ID_CURR; once fetched, the connection can be closed and its memory freed. (Through Arrow: several
    times faster than DuckDB's own DataFrame conversion for hundreds of columns.)"""
    return {
        s.name: con.sql(f"SELECT * FROM agg_{s.name}").to_arrow_table().to_pandas().set_index(KEY).astype("float64")
        for s in sources
    }


def history_aggregates(
    history: Mapping[str, TableInput], memory_limit: str | None = None, workers: int = 1
) -> dict[str, pd.DataFrame]:
    """Every client source's aggregates (`aggregates`), with the independent chains of sources shared among
    `workers` threads, each with its own single-threaded in-memory database (and `memory_limit`): the
    chains run side by side, and every query still runs on one thread, so the values are bit-for-bit those
    of one database (`on_own_databases`)."""

    def build(con: duckdb.DuckDBPyConnection, chain: list[Source]) -> dict[str, pd.DataFrame]:
        _build_chain(con, chain)
        return aggregates(con, [s for s in chain if s in CLIENT_SOURCES])

    parts = on_own_databases(_chains(), workers, lambda: connect(history, memory_limit), build)
    merged = {name: frame for part in parts for name, frame in part.items()}
    return {s.name: merged[s.name] for s in CLIENT_SOURCES}


def _aligned(aggregated: pd.DataFrame, flags: list[str], clients: pd.Index) -> pd.DataFrame:
    """One source's aggregates for the given clients in their order: flags 0 for clients without a row in
    the source, every other column missing."""
    out = aggregated.reindex(clients)
    out[flags] = out[flags].fillna(0.0)
    return out


def assemble(
    application: pd.DataFrame, aggregated: Mapping[str, pd.DataFrame], keep: tuple[str, ...] = ()
) -> pd.DataFrame:
    """The `keep` columns (labels carried along, never features) then every feature, one row per
    application row in its order, indexed by SK_ID_CURR."""
    return join_history(application_features(application), application, aggregated, keep)


def join_history(
    app: pd.DataFrame, application: pd.DataFrame, aggregated: Mapping[str, pd.DataFrame], keep: tuple[str, ...] = ()
) -> pd.DataFrame:
    """`assemble` once the application features `app` of `application` are computed (the batch stage
    computes them while DuckDB aggregates the history)."""
    carried = pd.DataFrame({c: application[c].to_numpy() for c in keep}, index=app.index)
    history = (_aligned(aggregated[s.name], list(s.flags), app.index) for s in CLIENT_SOURCES)
    return pd.concat([carried, app, *history], axis=1)


def history_features(history: Mapping[str, TableInput]) -> pd.DataFrame:
    """History features of every client with at least one history row, indexed by SK_ID_CURR and sorted:
    the history half of the matrix on its own, to check the aggregates table by table."""
    aggregated = history_aggregates(history)
    clients = pd.Index(sorted(set().union(*(a.index for a in aggregated.values()))), name=KEY)
    return pd.concat([_aligned(aggregated[s.name], list(s.flags), clients) for s in CLIENT_SOURCES], axis=1)
