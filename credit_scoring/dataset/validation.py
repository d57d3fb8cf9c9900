"""The raw CSVs against the schema: every problem named by file, column and rows, before anything is written.

Every later stage trusts ``data/prepared/``, so a broken download or a drifted generator must fail here, naming
the file, the column and the rows, rather than surface as a puzzling NaN three stages later. The text checks
(`row_problems`) read every field as text, so a bad value is counted rather than a reason to guess another
type; the bank database's load from CSVs (``credit_scoring.dataset.bank``) runs them on every file. The preparation
(``credit_scoring.dataset.preparation``) first reads a file once with its numbers parsed as numbers (`load_typed`),
which clears a clean file fast, and runs the text checks only on a file that read does not clear.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.csv as pacsv

from credit_scoring.common.paths import SYNTHETIC_TRUTH
from credit_scoring.common.sql import literal, quoted
from credit_scoring.dataset.schema import ENTITY_KEYS, Column, Table, tables

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


def scalar(con: duckdb.DuckDBPyConnection, sql: str):
    """The single value of a one-row, one-column query (a count, an example key)."""
    return first_row(con, sql)[0]


def input_files(raw_dir: Path, truth_file: Path | None) -> dict[str, tuple[Path, Table]]:
    """The files to read from ``raw_dir`` (Kaggle's names) with their layouts, and the true PDs when given."""
    files = {name: (raw_dir / t.file, t) for name, t in tables().items()}
    if truth_file is not None:
        files[TRUTH.name] = (Path(truth_file), TRUTH)
    return files


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


def typed_select(source: Source) -> str:
    """SELECT of the typed columns, in the schema's order, straight from the CSV."""
    select = ", ".join(f"{typed(c)} AS {quoted(c.name)}" for c in source.table.columns)
    return f"SELECT {select} FROM {csv_scan(source)}"


# A double holds every integer below this exactly; an integer column's value beyond it is left to the text checks.
EXACT_INTEGER = 2**53


# The Arrow type of each SQL type of the schema: what `load_typed` reads and the prepared files store.
ARROW_TYPES = {"BIGINT": pa.int64(), "DOUBLE": pa.float64(), "VARCHAR": pa.string()}
CSV_BLOCK_BYTES = 1 << 24  # pyarrow's CSV reader parses the file in blocks of this many bytes


def read_type(column: Column) -> str:
    """The type the typed checks read a column as: integers as DOUBLE, so that a fraction is seen (an
    integer reader would refuse 1.5 or round it to 2, and 12.0 and 1e1 are integers written otherwise)."""
    return "VARCHAR" if column.sql_type == "VARCHAR" else "DOUBLE"


def typed_checks(table: Table) -> list[str]:
    """The rules of `row_checks` that a row read with `read_type` can still break, as SQL conditions: the
    reader already refused non-numeric text; infinities and NaN, fractions in integer columns, integers too
    large for a double, a TARGET other than 0/1 and an empty key remain."""
    checks = []
    for column in table.columns:
        value = quoted(column.name)
        if column.sql_type != "VARCHAR":
            checks.append(f"NOT isfinite({value})")
        if column.sql_type == "BIGINT":
            checks.append(f"{value} <> floor({value}) OR abs({value}) >= {EXACT_INTEGER}")
    if "TARGET" in table.column_names:
        checks.append("TARGET NOT IN (0, 1) IS NOT FALSE")
    if table.name in UNIQUE_KEYS:
        checks.append(f"{quoted(UNIQUE_KEYS[table.name])} IS NULL")
    return checks


def load_typed(con: duckdb.DuckDBPyConnection, source: Source) -> pa.Table | None:
    """Read the file once, numbers parsed as numbers (much faster than checking their text), and run the
    typed checks over it in ``con``: the schema's columns, integers as the doubles `read_type` gives (each
    exact below `EXACT_INTEGER`). Returns that table when every row passed every rule of `row_checks`; None
    when some row may not pass (pyarrow's reader refused a row, or a typed check found one): the caller then
    runs the text checks (`row_problems`) to name the file, column, rows and an example.

    pyarrow's CSV reader, on the calling thread, with the dialect `csv_scan` pins: it parses these files in
    about 60 % of the time DuckDB's reader takes. It never reads a number the text checks would refuse (it is stricter:
    text such as ``0x10`` or ``1_000`` is refused, and left to the text checks); empty fields, quoted or not,
    are missing, as for DuckDB."""
    types = {c.name: ARROW_TYPES[read_type(c)] for c in source.table.columns}
    try:
        loaded = pacsv.read_csv(
            source.path,
            read_options=pacsv.ReadOptions(use_threads=False, block_size=CSV_BLOCK_BYTES),
            parse_options=pacsv.ParseOptions(delimiter=",", quote_char='"', double_quote=True, escape_char=False),
            convert_options=pacsv.ConvertOptions(
                column_types=types, include_columns=list(types), null_values=[""], strings_can_be_null=True,
                quoted_strings_can_be_null=True,
            ),
        )
    except pa.ArrowInvalid:  # a row of the wrong length, a broken quote, bad UTF-8, text in a number column
        return None
    name = f"typed_{source.table.name}"
    con.register(name, loaded)  # scanned in place, not copied
    try:
        tallies = ", ".join(f"count_if({condition})" for condition in typed_checks(source.table))
        counts = first_row(con, f"SELECT {tallies} FROM {quoted(name)}")
    finally:
        con.unregister(name)
    return None if any(counts) else loaded


def stored_schema(table: Table) -> pa.Schema:
    """The Arrow schema a prepared table is written with: the schema's columns, in its order, with its types."""
    return pa.schema([(c.name, ARROW_TYPES[c.sql_type]) for c in table.columns])


def as_stored(table: Table, loaded: pa.Table) -> pa.Table:
    """A table `load_typed` returned (the schema's columns, in its order), with the stored types: its integers
    back from doubles, the checks having found each one whole and exact."""
    return loaded.cast(stored_schema(table))


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


def open_all(files: dict[str, tuple[Path, Table]]) -> tuple[dict[str, Source], dict[str, list[str]]]:
    """`open_source` for every file: the sources that opened, and each other file's problem by table name."""
    sources, problems = {}, {}
    for name, (path, table) in files.items():
        try:
            sources[name] = open_source(path, table)
        except DataValidationError as e:
            problems[name] = [str(e)]
    return sources, problems


def raise_in_order(files: dict[str, tuple[Path, Table]], problems: dict[str, list[str]]) -> None:
    """Every problem at once, in the files' order: a user fixing a Kaggle folder should not discover them one
    run at a time."""
    raise_if([problem for name in files for problem in problems.get(name, [])])


def open_sources(
    con: duckdb.DuckDBPyConnection,
    files: dict[str, tuple[Path, Table]],
    check: Callable[[duckdb.DuckDBPyConnection, Source], list[str]] = row_problems,
) -> dict[str, Source]:
    """Open (`open_all`) and `check` every file (by default `row_problems`), and report all the problems at
    once (`raise_in_order`)."""
    sources, problems = open_all(files)
    for name, source in sources.items():
        problems[name] = check(con, source)
    raise_in_order(files, problems)
    return sources


def raise_if(problems: list[str]) -> None:
    if problems:
        raise DataValidationError("invalid input data:\n  - " + "\n  - ".join(problems))


def key_problems(con: duckdb.DuckDBPyConnection, sources: dict[str, Source]) -> list[str]:
    """Keys that must identify one entity (in the tables loaded as views of their names): no repeats within a
    table, no client in both train and test."""
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
