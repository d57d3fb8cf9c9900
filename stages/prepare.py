"""Prepare stage: raw Home Credit CSVs -> validated, typed parquet tables and a stratified holdout split.

Every later stage trusts ``data/prepared/``, so a broken download or a drifted generator must fail here, naming
the file, the column and the rows, rather than surface as a puzzling NaN three stages later. DuckDB streams each
CSV to parquet (27M rows of bureau_balance never pass through pandas), and the outputs are written to a
temporary sibling folder that replaces ``data/prepared/`` only once every check has passed.
"""

from __future__ import annotations

import csv
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split

from credit_scoring.database import duplicate_count_sql, orphan_count_sql
from credit_scoring.io import write_json
from credit_scoring.params import load_params
from credit_scoring.schema import ENTITY_KEYS, FOREIGN_KEYS, HISTORY_TABLES, Column, Table, tables
from credit_scoring.sql import literal, quoted

PREPARED_DIR = Path("data/prepared")
METRICS_FILE = Path("reports/metrics/prepare.json")
SYNTHETIC_DIR = Path("data/raw/synthetic")
SYNTHETIC_TRUTH = Path("data/raw/synthetic_truth.csv")
DATABASE_EXPORT_PARENT = Path("data/raw")
DESCRIPTION_FILE = "HomeCredit_columns_description.csv"
DESCRIPTION_COLUMNS = ["Table", "Row", "Description", "Special"]

# The generator's true default probabilities, read with the same checks as a Kaggle table.
TRUTH = Table(
    name="oracle_pd",
    file=SYNTHETIC_TRUTH.name,
    full_rows=0,
    key=("SK_ID_CURR",),
    columns=(
        Column("SK_ID_CURR", "integer", "int", 0.0, None, None, None),
        Column("PD", "float", "float", 0.0, None, None, None),
    ),
)
UNIQUE_KEYS = {**ENTITY_KEYS, TRUTH.name: "SK_ID_CURR"}
APPLICATIONS = ("application_train", "application_test")


class DataValidationError(ValueError):
    """Raw data that breaks the schema; the message names the file, the column and how many rows."""


@dataclass(frozen=True)
class Source:
    """One CSV to prepare: where it is, the layout it must follow, and its header as found."""

    path: Path
    table: Table
    header: tuple[str, ...]

    @property
    def extra_columns(self) -> list[str]:
        return [c for c in self.header if c not in self.table.column_names]


def rows(n: int) -> str:
    return f"{n} row" if n == 1 else f"{n} rows"


def first_row(con: duckdb.DuckDBPyConnection, sql: str) -> tuple:
    """fetchall, not fetchone: DuckDB keeps a streamed result open (and rejects unsaved) until it is drained."""
    return con.execute(sql).fetchall()[0]


def read_header(path: Path) -> tuple[str, ...]:
    """The column names as the file spells them; DuckDB then reads by these names, whatever their order."""
    if not path.is_file():
        raise DataValidationError(f"{path.name}: file is missing (looked in {path.parent})")
    with open(path, newline="", encoding="utf-8-sig", errors="replace") as f:
        header = next(csv.reader(f), None)
    if not header:
        raise DataValidationError(f"{path.name}: file is empty, no header line")
    if len(set(header)) < len(header):
        repeated = sorted({c for c in header if header.count(c) > 1})
        raise DataValidationError(f"{path.name}: repeated column names {', '.join(repeated)}")
    return tuple(header)


def open_source(path: Path, table: Table) -> Source:
    """Check that the file exists and holds every schema column; extra columns are allowed."""
    header = read_header(path)
    missing = [c for c in table.column_names if c not in header]
    if missing:
        raise DataValidationError(f"{path.name}: missing {len(missing)} column(s): {', '.join(missing)}")
    return Source(path, table, header)


def csv_scan(source: Source, rejects: str | None = None) -> str:
    """read_csv over the raw text, every field VARCHAR: types are checked by us, so a bad value is counted,
    not a reason for DuckDB to guess another type. The dialect is pinned because sniffing a corrupted file
    fails before any row could be counted."""
    columns = ", ".join(f"{literal(c)}: 'VARCHAR'" for c in source.header)
    options = [
        "auto_detect = false",
        "header = true",
        "delim = ','",
        "quote = '\"'",
        "escape = '\"'",
        f"columns = {{{columns}}}",
    ]
    if rejects:
        options += [
            "store_rejects = true",
            f"rejects_table = {literal(rejects)}",
            f"rejects_scan = {literal(rejects + '_scan')}",
        ]
    return f"read_csv({literal(source.path)}, {', '.join(options)})"


def typed(column: Column) -> str:
    """The value as the prepared table stores it; an empty field is already NULL."""
    if column.sql_type == "VARCHAR":
        return quoted(column.name)
    return f"TRY_CAST({quoted(column.name)} AS {column.sql_type})"


def row_checks(table: Table) -> list[tuple[str, str, str]]:
    """(column, what is wrong, SQL condition on a raw row) for every rule a single row can break."""
    checks = []
    for column in table.columns:
        raw = quoted(column.name)
        number = f"TRY_CAST({raw} AS DOUBLE)"
        is_number = f"coalesce(isfinite({number}), false)"
        if column.sql_type != "VARCHAR":
            checks.append((column.name, "with non-numeric text", f"{raw} IS NOT NULL AND NOT {is_number}"))
        if column.sql_type == "BIGINT":
            fraction = f"TRY_CAST({raw} AS BIGINT) IS NULL OR {number} <> floor({number})"
            checks.append((column.name, "with non-integer numbers", f"{is_number} AND ({fraction})"))
    if "TARGET" in table.column_names:
        not_binary = "TRY_CAST(TARGET AS DOUBLE) NOT IN (0, 1) IS NOT FALSE"  # also true for empty and text
        checks.append(("TARGET", "with a TARGET other than 0/1", not_binary))
    if table.name in UNIQUE_KEYS:
        key = UNIQUE_KEYS[table.name]
        checks.append((key, "with an empty key", f"{quoted(key)} IS NULL"))
    return checks


def malformed_rows(con: duckdb.DuckDBPyConnection, source: Source, rejects: str) -> list[str]:
    """Rows DuckDB could not split into the header's fields (too few, too many, broken quotes, bad UTF-8)."""
    firsts = ", ".join(f"arg_min({field}, line)" for field in ("error_type", "column_name", "error_message"))
    n, line, error, column, detail = first_row(con, f"SELECT count(*), min(line), {firsts} FROM {rejects}")
    if not n:
        return []
    where = f", column {column}" if column else ""
    return [f"{source.path.name}: {rows(n)} not readable as CSV, first at line {line} ({error}{where}: {detail})"]


def bad_values(con: duckdb.DuckDBPyConnection, source: Source, rejects: str) -> list[str]:
    """One pass over the file counts, for every column, the rows that break a rule; a second pass, only when
    some did, fetches an example of each failure (fetching them always would slow the clean path by half)."""
    checks = row_checks(source.table)
    tallies = ", ".join(f"count_if({cond})" for _, _, cond in checks)
    counts = first_row(con, f"SELECT {tallies} FROM {csv_scan(source, rejects)}")
    failed = [(check, n) for check, n in zip(checks, counts) if n]
    if not failed:
        return []
    firsts = ", ".join(f"min({quoted(col)}) FILTER (WHERE {cond})" for (col, _, cond), _ in failed)
    examples = first_row(con, f"SELECT {firsts} FROM {csv_scan(source, rejects + '_again')}")
    return [
        f"{source.path.name}, column {col}: {rows(n)} {what}" + ("" if example is None else f" (e.g. {example!r})")
        for ((col, what, _), n), example in zip(failed, examples)
    ]


def row_problems(con: duckdb.DuckDBPyConnection, source: Source) -> list[str]:
    """Malformed rows and bad values of one file; DuckDB fills the rejects table during the values pass."""
    rejects = f"rejects_{source.table.name}"
    problems = bad_values(con, source, rejects)
    return malformed_rows(con, source, rejects) + problems


def open_sources(con: duckdb.DuckDBPyConnection, files: dict[str, tuple[Path, Table]]) -> dict[str, Source]:
    """Validate every file before writing anything, and report all the problems at once: a user fixing a
    Kaggle folder should not discover them one run at a time."""
    sources, problems = {}, []
    for name, (path, table) in files.items():
        try:
            sources[name] = open_source(path, table)
        except DataValidationError as e:
            problems.append(str(e))
            continue
        problems += row_problems(con, sources[name])
    raise_if(problems)
    return sources


def raise_if(problems: list[str]) -> None:
    if problems:
        raise DataValidationError("invalid input data:\n  - " + "\n  - ".join(problems))


def copy_table(con: duckdb.DuckDBPyConnection, source: Source, out_dir: Path) -> None:
    """Stream the typed columns, in the schema's order, straight from CSV to parquet inside DuckDB."""
    select = ", ".join(f"{typed(c)} AS {quoted(c.name)}" for c in source.table.columns)
    dest = out_dir / f"{source.table.name}.parquet"
    con.execute(f"COPY (SELECT {select} FROM {csv_scan(source)}) TO {literal(dest)} (FORMAT parquet)")
    con.execute(f"CREATE VIEW {quoted(source.table.name)} AS SELECT * FROM read_parquet({literal(dest)})")


def scalar(con: duckdb.DuckDBPyConnection, sql: str):
    """The single value of a one-row, one-column query (a count, an example key)."""
    return first_row(con, sql)[0]


def key_problems(con: duckdb.DuckDBPyConnection, sources: dict[str, Source]) -> list[str]:
    """Keys that must identify one entity: no repeats within a table, no client in both train and test."""
    problems = []
    for name, key in UNIQUE_KEYS.items():
        if name in sources:
            k, t = quoted(key), quoted(name)
            n = scalar(con, f"SELECT count({k}) - count(DISTINCT {k}) FROM {t}")
            if n:
                example = scalar(con, f"SELECT min({k}) FROM (SELECT {k} FROM {t} GROUP BY {k} HAVING count(*) > 1)")
                where = f"{sources[name].path.name}, column {key}"
                problems.append(f"{where}: {rows(n)} with a key seen before (e.g. {example})")
    both = scalar(con, "SELECT count(*) FROM application_train SEMI JOIN application_test USING (SK_ID_CURR)")
    if both:
        files = " and ".join(sources[name].path.name for name in APPLICATIONS)
        problems.append(f"{files}, column SK_ID_CURR: {rows(both)} with a client id in both files")
    return problems


def truth_problems(con: duckdb.DuckDBPyConnection, source: Source) -> list[str]:
    """The oracle is only meaningful if every client has a probability."""
    problems = []
    outside = scalar(con, "SELECT count(*) FROM oracle_pd WHERE PD IS NULL OR PD NOT BETWEEN 0 AND 1")
    if outside:
        problems.append(f"{source.path.name}, column PD: {rows(outside)} with PD missing or outside [0, 1]")
    for name in APPLICATIONS:
        lacking = scalar(con, f"SELECT count(*) FROM {name} ANTI JOIN oracle_pd USING (SK_ID_CURR)")
        if lacking:
            problems.append(f"{source.path.name}, column SK_ID_CURR: {rows(lacking)} of {name} without a PD")
    return problems


def orphans(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Child rows whose parent is absent: the real files have many, so they are kept and only counted."""
    return {
        f"{child}.{col}": scalar(con, orphan_count_sql(child, col, parents, parent_col))
        for (child, col), (parents, parent_col) in FOREIGN_KEYS.items()
    }


def key_duplicates(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Repeats on the composite keys of the monthly tables: reported, since the real files do not respect them."""
    monthly = [t for t in tables().values() if t.name not in ENTITY_KEYS]
    return {t.name: scalar(con, duplicate_count_sql(t.name, t.key)) for t in monthly}


def history_coverage(con: duckdb.DuckDBPyConnection) -> dict[str, float]:
    """Share of application_train clients with at least one row in each history table (bureau_balance reached
    through the client's bureau credits): shows how many aggregates will be missing downstream."""
    clients = {t: f"SELECT SK_ID_CURR FROM {quoted(t)}" for t in HISTORY_TABLES}
    clients["bureau_balance"] = "SELECT SK_ID_CURR FROM bureau SEMI JOIN bureau_balance USING (SK_ID_BUREAU)"
    return {
        t: scalar(con, f"SELECT coalesce(avg((SK_ID_CURR IN ({sql}))::INT), 0) FROM application_train")
        for t, sql in clients.items()
    }


def write_split(con: duckdb.DuckDBPyConnection, out_dir: Path, holdout_size: float, seed: int) -> pd.DataFrame:
    """Holdout ids stratified on TARGET; ids are sorted first so the split depends on the data, not file order."""
    split = con.execute("SELECT SK_ID_CURR, TARGET FROM application_train ORDER BY SK_ID_CURR").df()
    _, holdout = train_test_split(
        split["SK_ID_CURR"], test_size=holdout_size, stratify=split["TARGET"], random_state=seed
    )
    split["holdout"] = split["SK_ID_CURR"].isin(holdout)
    split.to_parquet(out_dir / "split.parquet", index=False)
    return split


def oracle_auc(con: duckdb.DuckDBPyConnection) -> float:
    """ROC AUC of the true probabilities on application_train: the ceiling any model can reach on this data."""
    scored = con.execute("SELECT TARGET, PD FROM application_train JOIN oracle_pd USING (SK_ID_CURR)").df()
    return float(roc_auc_score(scored["TARGET"], scored["PD"]))


def write_descriptions(raw_dir: Path, out_dir: Path) -> bool:
    """Kaggle's column descriptions, kept for labelling figures and the note; absent from synthetic data."""
    path = raw_dir / DESCRIPTION_FILE
    if not path.is_file():
        return False
    descriptions = pd.read_csv(path, encoding="cp1252", index_col=0)
    missing = [c for c in DESCRIPTION_COLUMNS if c not in descriptions.columns]
    if missing:
        raise DataValidationError(f"{path.name}: missing {len(missing)} column(s): {', '.join(missing)}")
    descriptions = descriptions[DESCRIPTION_COLUMNS].astype("string")
    descriptions.to_parquet(out_dir / "columns_description.parquet", index=False)
    return True


def input_files(raw_dir: Path, truth_file: Path | None) -> dict[str, tuple[Path, Table]]:
    files = {name: (raw_dir / t.file, t) for name, t in tables().items()}
    if truth_file is not None:
        files[TRUTH.name] = (Path(truth_file), TRUTH)
    return files


def build(
    con: duckdb.DuckDBPyConnection, files: dict[str, tuple[Path, Table]], out_dir: Path, holdout_size: float, seed: int
) -> dict:
    """Validate, write and describe every table into out_dir; raises before returning if anything is wrong."""
    sources = open_sources(con, files)
    for source in sources.values():
        copy_table(con, source, out_dir)
    has_truth = TRUTH.name in sources
    raise_if(key_problems(con, sources) + (truth_problems(con, sources[TRUTH.name]) if has_truth else []))
    split = write_split(con, out_dir, holdout_size, seed)
    metrics = {
        "rows": {name: scalar(con, f"SELECT count(*) FROM {quoted(name)}") for name in tables()},
        "target_rate": float(split["TARGET"].mean()),
        "holdout_clients": int(split["holdout"].sum()),
        "history_coverage": history_coverage(con),
        "orphans": orphans(con),
        "key_duplicates": key_duplicates(con),
        "extra_columns": {name: s.extra_columns for name, s in sources.items()},
    }
    if has_truth:
        metrics["oracle_auc"] = oracle_auc(con)
    return metrics


def replace_dir(staged: Path, out_dir: Path, scratch: Path) -> None:
    """Swap the finished folder into place with renames, so readers never see a half-written data/prepared."""
    previous = scratch / "previous"
    if out_dir.exists():
        out_dir.rename(previous)
    try:
        staged.rename(out_dir)
    except OSError:
        if previous.exists():
            previous.rename(out_dir)
        raise


def prepare(
    raw_dir: Path,
    out_dir: Path = PREPARED_DIR,
    holdout_size: float = 0.2,
    seed: int = 42,
    truth_file: Path | None = None,
) -> dict:
    """Validate the 8 raw tables in raw_dir (and the true PDs when given), write them typed to out_dir with the
    holdout split, and return the metrics. On any error out_dir is left as it was."""
    raw_dir, out_dir = Path(raw_dir), Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}-", dir=out_dir.parent))
    try:
        staged = scratch / out_dir.name
        staged.mkdir()
        with duckdb.connect() as con:
            con.execute(f"SET temp_directory = {literal(scratch / 'duckdb')}")
            con.execute("SET enable_progress_bar = false")  # a log, not a terminal
            metrics = build(con, input_files(raw_dir, truth_file), staged, holdout_size, seed)
        metrics["columns_description"] = write_descriptions(raw_dir, staged)
        replace_dir(staged, out_dir, scratch)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return metrics


@contextmanager
def raw_data(params: dict) -> Iterator[tuple[Path, Path | None]]:
    """Where the raw tables come from: the generator (run now, with its hidden truth), a Kaggle folder, or
    the bank database, whose 8 tables are exported as Kaggle CSVs into a scratch folder removed afterwards, so
    that they meet exactly the checks a file would."""
    data = params["data"]
    if data["source"] == "synthetic":
        from stages.synth import generate  # only the synthetic source needs the generator

        generate(
            n_clients=data["synthetic"]["n_clients"],
            n_test_clients=data["synthetic"]["n_test_clients"],
            seed=params["seed"],
            out_dir=SYNTHETIC_DIR,
            truth_file=SYNTHETIC_TRUTH,
        )
        yield SYNTHETIC_DIR, SYNTHETIC_TRUTH
    elif data["source"] == "kaggle":
        yield Path(data["kaggle_dir"]), None
    elif data["source"] == "database":
        DATABASE_EXPORT_PARENT.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="database-", dir=DATABASE_EXPORT_PARENT) as folder:
            export_database(data["database"], Path(folder))
            yield Path(folder), None
    else:
        raise ValueError(f"params.yaml data.source must be 'synthetic', 'kaggle' or 'database', not {data['source']!r}")


def export_database(settings: dict, out_dir: Path) -> None:
    """The 8 raw tables of the database at DATABASE_URL (else the embedded file), orphans included, as CSVs."""
    from credit_scoring.database import Database, database_url

    with Database(database_url(settings["path"]), settings["schema"]) as db:
        for name, t in tables().items():
            db.export_csv(name, out_dir / t.file)


def main() -> None:
    params = load_params()
    started = time.perf_counter()
    with raw_data(params) as (raw_dir, truth_file):
        metrics = prepare(raw_dir, PREPARED_DIR, params["split"]["holdout_size"], params["seed"], truth_file)
    seconds = round(time.perf_counter() - started, 2)
    write_json(METRICS_FILE, {"source": params["data"]["source"], **metrics, "seconds": seconds})


if __name__ == "__main__":
    main()
