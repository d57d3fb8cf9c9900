"""Raw Home Credit CSVs -> validated, typed parquet tables and a stratified holdout split (the prepare stage).

Each CSV is read once by pyarrow with the schema's types, checked by SQL over what was read (DuckDB scans the
Arrow table in place), and written to parquet from it (27M rows of bureau_balance never pass through pandas);
only a file those checks do not clear is read again as text, by the checks of ``credit_scoring.dataset.validation``
that name its problems. The files are shared among ``prepare.workers`` threads, each reading, checking and
writing one file at a time with its own single-threaded DuckDB database: the files are read side by side,
and each parquet file has the same layout (row groups of `ROW_GROUP_ROWS`) on any machine and under any load,
so the aggregates computed from it keep their last bits. The tables are written to a folder beside the output
that replaces it only once every check has passed. The raw tables come from the generator, a Kaggle folder or
the bank database."""

from __future__ import annotations

import importlib
import math
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from credit_scoring.common.duckdb_workers import on_own_databases
from credit_scoring.common.io import atomic_directory
from credit_scoring.common.paths import PREPARED, RAW, SYNTHETIC_RAW, SYNTHETIC_TRUTH
from credit_scoring.common.sql import literal, quoted
from credit_scoring.dataset.bank.database import duplicate_count_sql, orphan_count_sql
from credit_scoring.dataset.schema import FOREIGN_KEYS, HISTORY_TABLES, Table, tables
from credit_scoring.dataset.validation import (
    TRUTH,
    UNIQUE_KEYS,
    DataValidationError,
    Source,
    as_stored,
    input_files,
    key_problems,
    load_typed,
    open_all,
    raise_if,
    raise_in_order,
    row_problems,
    scalar,
    stored_schema,
    truth_problems,
    typed_select,
)

DESCRIPTION_FILE = "HomeCredit_columns_description.csv"
DESCRIPTION_COLUMNS = ["Table", "Row", "Description", "Special"]


# Rows per parquet row group: each file's row groups are exactly this long (the last one shorter), whatever
# the machine or its load, and DuckDB combines the partial sums of an aggregate row group by row group.
ROW_GROUP_ROWS = 122_880


def write_parquet(table: pa.Table, dest: Path) -> None:
    """A prepared table to parquet, by pyarrow: its text columns dictionary-encoded (they hold categories),
    its numbers plainly, without column statistics (nothing reads them, and they cost a fifth of the
    writing): half DuckDB's writing time, for files 30 % larger."""
    strings = [f.name for f in table.schema if pa.types.is_string(f.type)]
    pq.write_table(table, dest, row_group_size=ROW_GROUP_ROWS, compression="snappy", use_dictionary=strings,
                   write_statistics=False)


def parquet_view(con: duckdb.DuckDBPyConnection, name: str, out_dir: Path) -> None:
    """The written table as a view of its name, for the checks and counts that follow."""
    con.execute(f"CREATE VIEW {quoted(name)} AS SELECT * FROM read_parquet({literal(out_dir / f'{name}.parquet')})")


def check_and_write(
    con: duckdb.DuckDBPyConnection, source: Source, out_dir: Path
) -> tuple[list[str], pa.Table | None]:
    """Check one CSV and write it to parquet; returns the problems found and the table written (None, and
    nothing written, when there are problems). One typed read (`load_typed`) clears a clean file, which is
    written from what it read. Otherwise the text checks name the problems (`row_problems`); a file they
    accept (an integer beyond 2**53, which a double would round) is then written from its text
    (`typed_select`)."""
    dest = out_dir / f"{source.table.name}.parquet"
    loaded = load_typed(con, source)
    if loaded is not None:
        stored = as_stored(source.table, loaded)
    else:
        problems = row_problems(con, source)
        if problems:
            return problems, None
        stored = con.sql(typed_select(source)).to_arrow_table().cast(stored_schema(source.table))
    write_parquet(stored, dest)
    return [], stored


def repeated_keys(con: duckdb.DuckDBPyConnection, table: pa.Table, key: tuple[str, ...]) -> int:
    """Rows repeating a key already seen in ``table`` (`duplicate_count_sql`'s count). Integer keys without
    missing values, whose ranges fit together in 63 bits (the monthly tables': a credit, a month or an
    instalment), are packed into one integer per row and sorted: four times faster than hashing 27 million
    keys. Other keys are counted by DuckDB."""
    columns = [table[k] for k in key]
    if all(pa.types.is_integer(c.type) and c.null_count == 0 for c in columns) and table.num_rows:
        values = [c.to_numpy().astype(np.int64) for c in columns]
        lows = [int(v.min()) for v in values]
        spans = [int(v.max()) - low + 1 for v, low in zip(values, lows)]
        if math.prod(spans) < 2**63:
            packed = np.zeros(table.num_rows, dtype=np.int64)
            for v, low, span in zip(values, lows, spans):
                packed = packed * span + (v - low)
            packed.sort()
            return int(np.count_nonzero(packed[1:] == packed[:-1]))
    con.register("keyed", table)
    try:
        return scalar(con, duplicate_count_sql("keyed", key))
    finally:
        con.unregister("keyed")


def worker_connection(memory_limit: str | None, spill: Path) -> duckdb.DuckDBPyConnection:
    """A single-threaded database for one worker's checks (its reading and writing run on the worker's thread)."""
    con = duckdb.connect()
    con.execute("SET threads = 1")
    con.execute("SET enable_progress_bar = false")  # a log, not a terminal
    con.execute(f"SET temp_directory = {literal(spill)}")  # beside the data, not in a small /tmp
    if memory_limit:
        con.execute(f"SET memory_limit = {literal(memory_limit)}")
    return con


def check_and_write_all(
    files: dict[str, tuple[Path, Table]], out_dir: Path, spill: Path, workers: int = 2, memory_limit: str | None = None
) -> tuple[dict[str, Source], dict[str, int]]:
    """Open (`open_all`), check and write every file, the largest first, on `workers` threads, each with its
    own single-threaded database (`worker_connection`, `on_own_databases`); then report every problem at once
    (`raise_in_order`). Returns the sources and, for the monthly tables (whose composite keys the real files
    do not respect), the rows repeating a key, counted by the worker that wrote the file while the others
    still read."""
    sources, problems = open_all(files)

    def check(con: duckdb.DuckDBPyConnection, source: Source) -> tuple[list[str], int | None]:
        found, written = check_and_write(con, source, out_dir)
        if found or source.table.name in UNIQUE_KEYS:
            return found, None
        return found, repeated_keys(con, written, source.table.key)

    largest_first = sorted(sources.values(), key=lambda s: s.path.stat().st_size, reverse=True)
    checked = on_own_databases(largest_first, workers, lambda: worker_connection(memory_limit, spill), check)
    repeats = {}
    for source, (found, repeated) in zip(largest_first, checked):
        problems[source.table.name] = found
        if repeated is not None:
            repeats[source.table.name] = repeated
    raise_in_order(files, problems)
    return sources, repeats


def orphans(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Child rows whose parent is absent: the real files have many, so they are kept and only counted."""
    return {
        f"{child}.{col}": scalar(con, orphan_count_sql(child, col, parents, parent_col))
        for (child, col), (parents, parent_col) in FOREIGN_KEYS.items()
    }


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
    from sklearn.model_selection import train_test_split  # imported while the files were read (`prepare`)

    split = con.execute("SELECT SK_ID_CURR, TARGET FROM application_train ORDER BY SK_ID_CURR").df()
    _, holdout = train_test_split(
        split["SK_ID_CURR"], test_size=holdout_size, stratify=split["TARGET"], random_state=seed
    )
    split["holdout"] = split["SK_ID_CURR"].isin(holdout)
    split.to_parquet(out_dir / "split.parquet", index=False)
    return split


def oracle_auc(con: duckdb.DuckDBPyConnection) -> float:
    """ROC AUC of the true probabilities on application_train: the ceiling any model can reach on this data."""
    from sklearn.metrics import roc_auc_score

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


def build(
    con: duckdb.DuckDBPyConnection,
    files: dict[str, tuple[Path, Table]],
    out_dir: Path,
    holdout_size: float,
    seed: int,
    spill: Path,
    workers: int = 2,
    memory_limit: str | None = None,
) -> dict:
    """Validate, write and describe every table into out_dir; raises before returning if anything is wrong."""
    sources, repeats = check_and_write_all(files, out_dir, spill, workers, memory_limit)
    for name in sources:
        parquet_view(con, name, out_dir)
    has_truth = TRUTH.name in sources
    raise_if(key_problems(con, sources) + (truth_problems(con, sources[TRUTH.name]) if has_truth else []))
    split = write_split(con, out_dir, holdout_size, seed)
    metrics = {
        "rows": {name: scalar(con, f"SELECT count(*) FROM {quoted(name)}") for name in tables()},
        "target_rate": float(split["TARGET"].mean()),
        "holdout_clients": int(split["holdout"].sum()),
        "history_coverage": history_coverage(con),
        "orphans": orphans(con),
        "key_duplicates": {name: repeats[name] for name in tables() if name in repeats},
        "extra_columns": {name: s.extra_columns for name, s in sources.items()},
    }
    if has_truth:
        metrics["oracle_auc"] = oracle_auc(con)
    return metrics


def prepare(
    raw_dir: Path,
    out_dir: Path = PREPARED,
    holdout_size: float = 0.2,
    seed: int = 42,
    truth_file: Path | None = None,
    workers: int = 2,
    memory_limit: str | None = None,
) -> dict:
    """Validate the 8 raw tables in raw_dir (and the true PDs when given), write them typed to out_dir with the
    holdout split, and return the metrics. The files are read on `workers` threads, each database within
    `memory_limit` (spilling to disk beyond it; DuckDB's default when None). On any error out_dir is left as
    it was."""
    raw_dir, out_dir = Path(raw_dir), Path(out_dir)
    # scikit-learn takes seconds to import and is needed only once the files are written: it is imported on a
    # thread of its own while the workers read, parse and write (they hold no lock Python needs meanwhile).
    importing = threading.Thread(target=importlib.import_module, args=("sklearn.model_selection",), daemon=True)
    importing.start()
    with atomic_directory(out_dir) as staged:
        with tempfile.TemporaryDirectory(prefix=".duckdb-", dir=out_dir.parent) as spill, duckdb.connect() as con:
            con.execute(f"SET temp_directory = {literal(spill)}")
            con.execute("SET enable_progress_bar = false")
            metrics = build(con, input_files(raw_dir, truth_file), staged, holdout_size, seed, Path(spill), workers,
                            memory_limit)
        metrics["columns_description"] = write_descriptions(raw_dir, staged)
    return metrics


@contextmanager
def raw_data(data: dict, seed: int) -> Iterator[tuple[Path, Path | None]]:
    """Where the raw tables come from (params.yaml ``data``): the generator (run now with ``seed``, with its
    hidden truth), a Kaggle folder, or the bank database, whose 8 tables are exported as Kaggle CSVs into a
    scratch folder removed afterwards, so that they meet exactly the checks a file would."""
    if data["source"] == "synthetic":
        from credit_scoring.dataset.synthetic.generate import generate  # only the synthetic source needs the generator

        generate(
            n_clients=data["synthetic"]["n_clients"],
            n_test_clients=data["synthetic"]["n_test_clients"],
            seed=seed,
            out_dir=SYNTHETIC_RAW,
            truth_file=SYNTHETIC_TRUTH,
        )
        yield SYNTHETIC_RAW, SYNTHETIC_TRUTH
    elif data["source"] == "kaggle":
        yield Path(data["kaggle_dir"]), None
    elif data["source"] == "database":
        RAW.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="database-", dir=RAW) as folder:
            export_database(data["database"], Path(folder))
            yield Path(folder), None
    else:
        raise ValueError(f"params.yaml data.source must be 'synthetic', 'kaggle' or 'database', not {data['source']!r}")


def export_database(settings: dict, out_dir: Path) -> None:
    """The 8 raw tables of the database at DATABASE_URL (else the embedded file), orphans included, as CSVs."""
    from credit_scoring.dataset.bank.database import Database, database_url

    with Database(database_url(settings["path"]), settings["schema"]) as db:
        for name, t in tables().items():
            db.export_csv(name, out_dir / t.file)
