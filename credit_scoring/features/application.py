"""The application table's features: a pure pandas function, the same for a batch of
clients and for one request's fields."""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cache

import numpy as np
import pandas as pd

from credit_scoring.dataset.schema import SENTINEL_COLUMNS, SENTINEL_DAYS, table

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
