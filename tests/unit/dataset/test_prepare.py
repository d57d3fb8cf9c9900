"""The prepare stage: the real sample passes unchanged, each kind of broken input fails loudly and leaves the
previous output alone, and the relations are counted right on a tiny hand-made set."""

import csv
import json
import math
import shutil
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from credit_scoring.dataset import preparation
from credit_scoring.dataset.bank.database import duplicate_count_sql
from credit_scoring.dataset.preparation import prepare
from credit_scoring.dataset.schema import table, tables
from credit_scoring.dataset.validation import (
    DataValidationError,
    as_stored,
    input_files,
    load_typed,
    open_source,
    typed_select,
)
from stages import prepare as stage

REPO = Path(__file__).resolve().parents[3]
ARROW_TYPES = {"BIGINT": "int64", "DOUBLE": "double", "VARCHAR": "string"}


def read_csv_rows(path: Path) -> tuple[list[str], list[list[str]]]:
    with open(path, newline="", encoding="utf-8") as f:
        header, *rows = list(csv.reader(f))
    return header, rows


def write_csv_rows(path: Path, header: list[str], rows: list[list[str]], quoting: int = csv.QUOTE_MINIMAL) -> None:
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n", quoting=quoting)
        writer.writerow(header)
        writer.writerows(rows)


def set_values(path: Path, column: str, values: dict[int, str]) -> None:
    """Overwrite `column` in the given data rows (0 = first row after the header)."""
    header, rows = read_csv_rows(path)
    for i, value in values.items():
        rows[i][header.index(column)] = value
    write_csv_rows(path, header, rows)


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def write_tables(raw_dir: Path, rows: dict[str, list[dict]]) -> None:
    """Small hand-made CSVs in the schema's layout: the named values, every other field empty."""
    raw_dir.mkdir(parents=True, exist_ok=True)
    for name, t in tables().items():
        records = [[str(r.get(c, "")) for c in t.column_names] for r in rows.get(name, [])]
        write_csv_rows(raw_dir / t.file, t.column_names, records)


@pytest.fixture
def raw(raw_source, tmp_path) -> Path:
    """A private copy that a test may corrupt, of the generated CSVs and of the real sample (`raw_source`)."""
    return Path(shutil.copytree(raw_source, tmp_path / "raw"))


@pytest.fixture
def out_dir(tmp_path) -> Path:
    """An existing output folder, as a previous run leaves it, that a failed run must not touch."""
    folder = tmp_path / "out" / "prepared"
    folder.mkdir(parents=True)
    (folder / "from_previous_run.txt").write_text("keep me")
    return folder


@pytest.fixture
def hand_made(tmp_path) -> Path:
    """Ten train clients (five defaults), one test client, and history rows with known orphans and repeats."""
    raw_dir = tmp_path / "hand"
    write_tables(
        raw_dir,
        {
            "application_train": [{"SK_ID_CURR": i, "TARGET": int(i > 5)} for i in range(1, 11)],
            "application_test": [{"SK_ID_CURR": 11}],
            "bureau": [
                {"SK_ID_CURR": 1, "SK_ID_BUREAU": 100},
                {"SK_ID_CURR": 1, "SK_ID_BUREAU": 101},
                {"SK_ID_CURR": 11, "SK_ID_BUREAU": 102},
                {"SK_ID_CURR": 99, "SK_ID_BUREAU": 103},  # orphan
                {"SK_ID_CURR": 98, "SK_ID_BUREAU": 104},  # orphan
            ],
            "bureau_balance": [
                {"SK_ID_BUREAU": 100, "MONTHS_BALANCE": -1, "STATUS": "C"},
                {"SK_ID_BUREAU": 100, "MONTHS_BALANCE": -2, "STATUS": "0"},
                {"SK_ID_BUREAU": 100, "MONTHS_BALANCE": -2, "STATUS": "0"},  # repeated key
                {"SK_ID_BUREAU": 555, "MONTHS_BALANCE": -1, "STATUS": "X"},  # orphan
            ],
            "previous_application": [
                {"SK_ID_PREV": 200, "SK_ID_CURR": 2},
                {"SK_ID_PREV": 201, "SK_ID_CURR": 3},
                {"SK_ID_PREV": 202, "SK_ID_CURR": 97},  # orphan
            ],
            "POS_CASH_balance": [
                {"SK_ID_PREV": 200, "SK_ID_CURR": 2, "MONTHS_BALANCE": -1},
                {"SK_ID_PREV": 300, "SK_ID_CURR": 96, "MONTHS_BALANCE": -1},  # orphan
            ],
            "installments_payments": [
                {"SK_ID_PREV": 201, "SK_ID_CURR": 3, "NUM_INSTALMENT_VERSION": 1, "NUM_INSTALMENT_NUMBER": 1},
                {"SK_ID_PREV": 201, "SK_ID_CURR": 3, "NUM_INSTALMENT_VERSION": 1, "NUM_INSTALMENT_NUMBER": 1},
            ],
            "credit_card_balance": [{"SK_ID_PREV": 400, "SK_ID_CURR": 5, "MONTHS_BALANCE": -1}],  # orphan
        },
    )
    return raw_dir


def write_truth(path: Path, clients: range) -> Path:
    """True probabilities that rank every default above every repayer of the hand-made set."""
    write_csv_rows(path, ["SK_ID_CURR", "PD"], [[str(i), "0.9" if i > 5 else "0.1"] for i in clients])
    return path


def test_sample_prepares_into_typed_tables_in_schema_order(sample_dir, tmp_path):
    out = tmp_path / "prepared"
    metrics = prepare(sample_dir, out)
    for name, t in tables().items():
        schema = pq.read_schema(out / f"{name}.parquet")
        assert schema.names == t.column_names
        assert [str(schema.field(c.name).type) for c in t.columns] == [ARROW_TYPES[c.sql_type] for c in t.columns]
        expected_rows = len(read_csv_rows(sample_dir / t.file)[1])
        assert pq.read_metadata(out / f"{name}.parquet").num_rows == expected_rows == metrics["rows"][name]
    descriptions = pd.read_parquet(out / "columns_description.parquet")
    assert list(descriptions.columns) == ["Table", "Row", "Description", "Special"]
    assert "AMT_RECIVABLE" in set(descriptions["Row"])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["prepared"]


def test_sample_values_survive_typing(sample_dir, tmp_path):
    prepare(sample_dir, tmp_path / "prepared")
    raw = pd.read_csv(sample_dir / "application_train.csv")
    typed = pd.read_parquet(tmp_path / "prepared" / "application_train.parquet")
    pd.testing.assert_series_equal(typed["AMT_CREDIT"], raw["AMT_CREDIT"], check_dtype=False)
    assert typed["NAME_CONTRACT_TYPE"].isna().sum() == raw["NAME_CONTRACT_TYPE"].isna().sum()


def test_each_file_is_written_with_the_same_layout_by_any_number_of_workers(raw, tmp_path, monkeypatch):
    """Row groups of exactly ROW_GROUP_ROWS rows, whatever the threads: the aggregates read from these files
    keep their last bits on any machine and under any load (DuckDB's parallel writer cuts its row groups
    where its threads' batches end). Two monthly tables shorter than a few row groups of DuckDB's smallest (one
    vector, 2,048 rows) are made 12 times longer (repeated keys are allowed and counted) so that they span
    several."""
    for name in ("bureau_balance", "installments_payments"):
        header, rows = read_csv_rows(raw / tables()[name].file)
        if len(rows) < 3 * 2048:
            write_csv_rows(raw / tables()[name].file, header, rows * 12)
    monkeypatch.setattr(preparation, "ROW_GROUP_ROWS", 2048)
    prepare(raw, tmp_path / "one", workers=1)
    prepare(raw, tmp_path / "three", workers=3, memory_limit="500MB")
    groups = {}
    for name in tables():
        written = pq.read_metadata(tmp_path / "one" / f"{name}.parquet")
        sizes = [written.row_group(i).num_rows for i in range(written.num_row_groups)]
        assert sizes[:-1] == [2048] * (len(sizes) - 1) and 0 < sizes[-1] <= 2048
        groups[name] = len(sizes)
        assert len(sizes) == -(-written.num_rows // 2048)
        one, three = (tmp_path / run / f"{name}.parquet" for run in ("one", "three"))
        assert one.read_bytes() == three.read_bytes()
    assert groups["bureau_balance"] > 2 and groups["installments_payments"] > 2, groups  # several groups each


def test_the_typed_read_writes_what_the_text_read_gives(sample_dir, tmp_path):
    """The one typed read (numbers parsed by the CSV reader) gives the rows, in their order, and the values,
    to the bit, that the text read casts (every field read as text, then TRY_CAST)."""
    prepare(sample_dir, tmp_path / "prepared")
    with duckdb.connect() as con:
        for name, (path, table) in input_files(sample_dir, None).items():
            from_text = con.sql(typed_select(open_source(path, table))).to_arrow_table()
            written = pq.read_table(tmp_path / "prepared" / f"{name}.parquet")
            assert written.equals(from_text.cast(written.schema)), name


def test_the_typed_read_agrees_with_the_text_read_on_awkward_fields(tmp_path):
    """pyarrow's reader and DuckDB's text read see the same values in the awkward corners of a CSV: a byte
    order mark, CRLF line ends, quoted numbers, empty fields quoted or not, numbers padded with spaces or
    written as 1e1 / 12.0; and the typed read refuses (leaving the file to the text checks) the text DuckDB
    would also refuse as a number."""
    table = tables()["bureau_balance"]
    path = tmp_path / table.file
    path.write_bytes("\ufeffSK_ID_BUREAU,MONTHS_BALANCE,STATUS\r\n"
                     '"5",-1,C\r\n6, -2 ,""\r\n7,,X\r\n1e1,12.0,"a, b"\r\n'.encode())
    with duckdb.connect() as con:
        source = open_source(path, table)
        loaded = load_typed(con, source)
        assert loaded is not None
        from_text = con.sql(typed_select(source)).to_arrow_table()
        assert as_stored(table, loaded).equals(from_text.cast(as_stored(table, loaded).schema))
        assert as_stored(table, loaded).to_pydict() == {
            "SK_ID_BUREAU": [5, 6, 7, 10], "MONTHS_BALANCE": [-1, -2, None, 12], "STATUS": ["C", None, "X", "a, b"]}
        for refused in ("0x10", "1_000", "twelve", "1.5"):
            path.write_text(f"SK_ID_BUREAU,MONTHS_BALANCE,STATUS\n5,{refused},C\n")
            assert load_typed(con, open_source(path, table)) is None, refused


@pytest.mark.parametrize("case", ["packed", "missing key", "wide range", "text key", "empty"])
def test_repeated_keys_count_what_the_sql_counts(case):
    """The packed count of repeated composite keys agrees with `duplicate_count_sql`, and keys it cannot pack
    (a missing value, ranges beyond 63 bits, text) are left to that SQL."""
    rng = np.random.default_rng(1)
    n = 0 if case == "empty" else 5000
    credit = rng.integers(100_000, 100_400, n)
    month = rng.integers(-96, 1, n)
    if case == "wide range":
        credit[:2] = [-(2**62), 2**62]
    table = pa.table({"SK_ID_BUREAU": credit, "MONTHS_BALANCE": month})
    if case == "missing key":
        table = table.set_column(1, "MONTHS_BALANCE", pa.array([None, None, *month[2:]], pa.int64()))
    if case == "text key":
        table = table.set_column(1, "MONTHS_BALANCE", pa.array(month.astype(str)))
    key = ("SK_ID_BUREAU", "MONTHS_BALANCE")
    with duckdb.connect() as con:
        con.register("t", table)
        expected = con.execute(duplicate_count_sql("t", key)).fetchall()[0][0]
        assert preparation.repeated_keys(con, table, key) == expected
    assert (expected > 0) == (n > 0)


def test_split_is_stratified_complete_and_seeded(sample_dir, tmp_path):
    metrics = prepare(sample_dir, tmp_path / "a", holdout_size=0.2, seed=7)
    split = pd.read_parquet(tmp_path / "a" / "split.parquet")
    train = pd.read_parquet(tmp_path / "a" / "application_train.parquet", columns=["SK_ID_CURR", "TARGET"])
    assert list(split.columns) == ["SK_ID_CURR", "TARGET", "holdout"]
    assert split["holdout"].dtype == bool
    assert split.drop(columns="holdout").sort_values("SK_ID_CURR").reset_index(drop=True).equals(
        train.sort_values("SK_ID_CURR").reset_index(drop=True)
    )
    holdout = split[split["holdout"]]
    assert len(holdout) == metrics["holdout_clients"] == math.ceil(0.2 * len(split))
    assert abs(holdout["TARGET"].sum() - 0.2 * split["TARGET"].sum()) <= 1
    assert metrics["target_rate"] == pytest.approx(split["TARGET"].mean())

    prepare(sample_dir, tmp_path / "b", holdout_size=0.2, seed=7)
    prepare(sample_dir, tmp_path / "c", holdout_size=0.2, seed=8)
    assert pd.read_parquet(tmp_path / "b" / "split.parquet").equals(split)
    assert not pd.read_parquet(tmp_path / "c" / "split.parquet")["holdout"].equals(split["holdout"])


def drop_column(path: Path, column: str) -> None:
    header, rows = read_csv_rows(path)
    i = header.index(column)
    write_csv_rows(path, header[:i] + header[i + 1 :], [r[:i] + r[i + 1 :] for r in rows])


def repeat_first_row(path: Path) -> None:
    header, rows = read_csv_rows(path)
    write_csv_rows(path, header, rows + rows[:1])


def cut_line(path: Path, line: int) -> None:
    """Drop the last field of one line (1 = header), as a truncated download would."""
    lines = path.read_text().splitlines(keepends=True)
    lines[line - 1] = lines[line - 1].rstrip("\n").rsplit(",", 1)[0] + "\n"
    path.write_text("".join(lines))


def reuse_train_ids_in_test(raw: Path) -> None:
    _, train_rows = read_csv_rows(raw / "application_train.csv")
    set_values(raw / "application_test.csv", "SK_ID_CURR", {0: train_rows[3][0], 1: train_rows[4][0]})


BROKEN_INPUTS = {
    "missing file": (lambda raw: (raw / "bureau.csv").unlink(), ["bureau.csv", "file is missing"]),
    "missing column": (
        lambda raw: drop_column(raw / "application_train.csv", "AMT_CREDIT"),
        ["application_train.csv", "missing 1 column", "AMT_CREDIT"],
    ),
    "text in a number": (
        lambda raw: set_values(raw / "application_train.csv", "AMT_CREDIT", {0: "lots", 5: "n/a", 9: "12,5"}),
        ["application_train.csv", "column AMT_CREDIT", "3 rows with non-numeric text"],
    ),
    "fraction in an integer": (
        lambda raw: set_values(raw / "bureau.csv", "DAYS_CREDIT", {1: "-3.5", 2: "-10.25"}),
        ["bureau.csv", "column DAYS_CREDIT", "2 rows with non-integer numbers"],
    ),
    "repeated client": (
        lambda raw: repeat_first_row(raw / "application_train.csv"),
        ["application_train.csv", "column SK_ID_CURR", "1 row with a key seen before"],
    ),
    "repeated bureau credit": (
        lambda raw: repeat_first_row(raw / "bureau.csv"),
        ["bureau.csv", "column SK_ID_BUREAU", "1 row with a key seen before"],
    ),
    "client in train and test": (
        reuse_train_ids_in_test,
        ["application_train.csv and application_test.csv", "column SK_ID_CURR", "2 rows with a client id in both"],
    ),
    "empty key": (
        lambda raw: set_values(raw / "application_test.csv", "SK_ID_CURR", {7: ""}),
        ["application_test.csv", "column SK_ID_CURR", "1 row with an empty key"],
    ),
    "short line": (
        lambda raw: cut_line(raw / "bureau.csv", 5),
        ["bureau.csv", "1 row not readable as CSV", "first at line 5", "column"],
    ),
    "infinity in a number": (
        lambda raw: set_values(raw / "application_train.csv", "AMT_CREDIT", {2: "inf", 4: "NaN"}),
        ["application_train.csv", "column AMT_CREDIT", "2 rows with non-numeric text"],
    ),
    "hexadecimal integer": (  # DuckDB would read 0x10 as 16 into an integer column; it is not a number here
        lambda raw: set_values(raw / "bureau.csv", "DAYS_CREDIT", {3: "0x10"}),
        ["bureau.csv", "column DAYS_CREDIT", "1 row with non-numeric text", "'0x10'"],
    ),
    "target of 2": (
        lambda raw: set_values(raw / "application_train.csv", "TARGET", {0: "2", 1: "2"}),
        ["application_train.csv", "column TARGET", "2 rows with a TARGET other than 0/1"],
    ),
}


@pytest.mark.parametrize("corrupt, expected", BROKEN_INPUTS.values(), ids=BROKEN_INPUTS.keys())
def test_broken_input_fails_clearly_and_leaves_previous_output(raw, out_dir, corrupt, expected):
    corrupt(raw)
    before = snapshot(out_dir)
    with pytest.raises(DataValidationError) as error:
        prepare(raw, out_dir)
    for fragment in expected:
        assert fragment in str(error.value)
    assert snapshot(out_dir) == before
    assert [p.name for p in out_dir.parent.iterdir()] == ["prepared"]


def test_all_problems_are_reported_at_once(raw, out_dir):
    (raw / "POS_CASH_balance.csv").unlink()
    set_values(raw / "application_train.csv", "TARGET", {3: ""})
    cut_line(raw / "installments_payments.csv", 2)
    with pytest.raises(DataValidationError) as error:
        prepare(raw, out_dir)
    message = str(error.value)
    assert message.startswith("invalid input data:\n  - ") and message.count("\n  - ") == 3
    assert "POS_CASH_balance.csv: file is missing" in message
    assert "column TARGET: 1 row with a TARGET other than 0/1" in message
    assert "installments_payments.csv: 1 row not readable as CSV, first at line 2" in message


def add_field(path: Path, line: int) -> None:
    """One more field on one line (1 = header), as a value with an unquoted comma would give."""
    lines = path.read_text().splitlines(keepends=True)
    lines[line - 1] = lines[line - 1].rstrip("\n") + ",1\n"
    path.write_text("".join(lines))


def test_a_line_too_long_names_no_column(raw, out_dir):
    """DuckDB names no column for a line with too many fields: the message says what was expected and found,
    without an empty column name."""
    add_field(raw / "bureau.csv", 4)
    with pytest.raises(DataValidationError) as error:
        prepare(raw, out_dir)
    n = len(table("bureau").column_names)
    assert (f"bureau.csv: 1 row not readable as CSV, first at line 4 (TOO MANY COLUMNS: Expected Number of "
            f"Columns: {n} Found: {n + 1})") in str(error.value)


def test_bad_values_are_shown_in_a_file_that_also_has_unreadable_lines(raw, out_dir):
    """The second pass (fetching an example of each bad value) also sets the unreadable lines aside, else it
    would stop on them and the bad value would go without its example."""
    set_values(raw / "bureau.csv", "DAYS_CREDIT", {0: "lots"})
    cut_line(raw / "bureau.csv", 5)
    with pytest.raises(DataValidationError) as error:
        prepare(raw, out_dir)
    message = str(error.value)
    assert "bureau.csv: 1 row not readable as CSV, first at line 5" in message
    assert "1 row with non-numeric text" in message and "'lots'" in message


def test_a_rule_with_nothing_to_show_gives_no_example(raw, out_dir):
    """An empty key has no value to quote: its line ends with the count, and a text in a number quotes it."""
    set_values(raw / "application_test.csv", "SK_ID_CURR", {7: ""})
    set_values(raw / "application_test.csv", "AMT_CREDIT", {2: "lots"})
    with pytest.raises(DataValidationError) as error:
        prepare(raw, out_dir)
    lines = str(error.value).splitlines()
    assert "  - application_test.csv, column SK_ID_CURR: 1 row with an empty key" in lines
    assert "  - application_test.csv, column AMT_CREDIT: 1 row with non-numeric text (e.g. 'lots')" in lines


def test_a_repeated_key_is_named(raw, out_dir):
    """The message quotes the repeated key, so that the operator can find its rows."""
    repeat_first_row(raw / "bureau.csv")
    _, rows = read_csv_rows(raw / "bureau.csv")
    repeated = rows[0][table("bureau").column_names.index("SK_ID_BUREAU")]
    with pytest.raises(DataValidationError) as error:
        prepare(raw, out_dir)
    assert f"bureau.csv, column SK_ID_BUREAU: 1 row with a key seen before (e.g. {repeated})" in str(error.value)


def test_a_text_with_a_comma_and_quotes_is_read_as_written(raw, tmp_path):
    """CSV quoting (a field in quotes, a quote inside doubled) is read back to the text written."""
    text = 'Business, "Type 3"'
    set_values(raw / "application_train.csv", "ORGANIZATION_TYPE", {0: text})
    prepare(raw, tmp_path / "prepared")
    train = pd.read_parquet(tmp_path / "prepared" / "application_train.parquet")
    assert train["ORGANIZATION_TYPE"].iloc[0] == text


def test_texts_that_look_like_missing_markers_stay_texts(raw, tmp_path):
    """Only an empty field is missing: "NA", "null" or "NaN" in a text column are what the file says."""
    set_values(raw / "application_train.csv", "ORGANIZATION_TYPE", {0: "NA", 1: "null", 2: "NaN"})
    prepare(raw, tmp_path / "prepared")
    train = pd.read_parquet(tmp_path / "prepared" / "application_train.parquet")
    assert train["ORGANIZATION_TYPE"].iloc[:3].tolist() == ["NA", "null", "NaN"]


def test_a_quoted_empty_field_is_missing_like_an_unquoted_one(raw, tmp_path):
    """Every field in quotes (as some exports write them): an empty text is still missing, not an empty text."""
    path = raw / "application_train.csv"
    header, rows = read_csv_rows(path)
    rows[0][header.index("ORGANIZATION_TYPE")] = ""
    write_csv_rows(path, header, rows, quoting=csv.QUOTE_ALL)
    prepare(raw, tmp_path / "prepared")
    train = pd.read_parquet(tmp_path / "prepared" / "application_train.parquet")
    assert pd.isna(train["ORGANIZATION_TYPE"].iloc[0])
    assert train["ORGANIZATION_TYPE"].isna().sum() == sum(r[header.index("ORGANIZATION_TYPE")] == "" for r in rows)


def test_an_empty_file_and_repeated_column_names_are_named(raw, out_dir):
    (raw / "bureau_balance.csv").write_text("")
    header, rows = read_csv_rows(raw / "POS_CASH_balance.csv")
    write_csv_rows(raw / "POS_CASH_balance.csv", [*header, "SK_DPD", "MONTHS_BALANCE"], [[*r, "0", "0"] for r in rows])
    with pytest.raises(DataValidationError) as error:
        prepare(raw, out_dir)
    message = str(error.value)
    assert "bureau_balance.csv: file is empty, no header line" in message
    assert "POS_CASH_balance.csv: repeated column names MONTHS_BALANCE, SK_DPD" in message


def test_an_extra_column_whose_name_is_not_utf8_is_ignored(raw, tmp_path):
    """A header byte that is not UTF-8 in a column the schema does not use does not stop the run (the data's
    own bytes are checked row by row)."""
    path = raw / "bureau.csv"
    lines = path.read_bytes().split(b"\n")
    path.write_bytes(b"\n".join([lines[0] + b",EXTRA\xff", *(line + b",1" for line in lines[1:] if line)]) + b"\n")
    prepare(raw, tmp_path / "prepared")
    bureau = pd.read_parquet(tmp_path / "prepared" / "bureau.parquet")
    assert list(bureau.columns) == table("bureau").column_names


def test_missing_columns_are_listed_in_the_schema_order(raw, out_dir):
    drop_column(raw / "application_train.csv", "AMT_CREDIT")
    drop_column(raw / "application_train.csv", "AMT_ANNUITY")
    with pytest.raises(DataValidationError) as error:
        prepare(raw, out_dir)
    order = [c for c in table("application_train").column_names if c in ("AMT_CREDIT", "AMT_ANNUITY")]
    assert f"application_train.csv: missing 2 column(s): {', '.join(order)}" in str(error.value)


def test_typed_checks_leave_doubtful_files_to_the_text_checks_and_values_stay_as_written(raw, tmp_path):
    """The typed checks clear a clean file; an integer beyond 2**53 (which the doubles they read would
    round) is left to the text checks, which accept it: every value is written as the file spells it."""
    huge = 2**53 + 1
    set_values(raw / "bureau.csv", "SK_ID_BUREAU", {0: str(huge)})
    set_values(raw / "bureau_balance.csv", "SK_ID_BUREAU", {0: str(huge)})
    set_values(raw / "installments_payments.csv", "NUM_INSTALMENT_NUMBER", {0: "12.0", 1: "1e1"})
    prepare(raw, tmp_path / "prepared")
    bureau = pd.read_parquet(tmp_path / "prepared" / "bureau.parquet")
    assert bureau["SK_ID_BUREAU"].iloc[0] == huge and bureau["SK_ID_BUREAU"].dtype == "int64"
    balance = pd.read_parquet(tmp_path / "prepared" / "bureau_balance.parquet")
    assert balance["SK_ID_BUREAU"].iloc[0] == huge
    payments = pd.read_parquet(tmp_path / "prepared" / "installments_payments.parquet")
    assert payments["NUM_INSTALMENT_NUMBER"].iloc[:2].tolist() == [12, 10]
    header, rows = read_csv_rows(raw / "installments_payments.csv")
    amounts = [float(r[header.index("AMT_PAYMENT")]) if r[header.index("AMT_PAYMENT")] else None for r in rows]
    assert payments["AMT_PAYMENT"].astype(object).where(payments["AMT_PAYMENT"].notna(), None).tolist() == amounts


def test_column_order_may_differ_and_extra_columns_are_reported(raw, tmp_path):
    header, rows = read_csv_rows(raw / "bureau.csv")
    write_csv_rows(raw / "bureau.csv", [*header[::-1], "NOTE"], [[*r[::-1], "x"] for r in rows])
    metrics = prepare(raw, tmp_path / "prepared")
    bureau = pd.read_parquet(tmp_path / "prepared" / "bureau.parquet")
    assert list(bureau.columns) == tables()["bureau"].column_names
    assert bureau["SK_ID_BUREAU"].astype(str).tolist() == [r[header.index("SK_ID_BUREAU")] for r in rows]
    assert metrics["extra_columns"]["bureau"] == ["NOTE"]
    assert metrics["extra_columns"]["application_train"] == []


def test_relations_are_counted_on_a_hand_made_set(hand_made, tmp_path):
    metrics = prepare(hand_made, tmp_path / "prepared")
    assert metrics["orphans"] == {
        "bureau.SK_ID_CURR": 2,
        "bureau_balance.SK_ID_BUREAU": 1,
        "previous_application.SK_ID_CURR": 1,
        "POS_CASH_balance.SK_ID_PREV": 1,
        "installments_payments.SK_ID_PREV": 0,
        "credit_card_balance.SK_ID_PREV": 1,
    }
    assert metrics["key_duplicates"] == {
        "bureau_balance": 1,
        "POS_CASH_balance": 0,
        "installments_payments": 1,
        "credit_card_balance": 0,
    }
    assert metrics["history_coverage"] == {
        "bureau": 0.1,
        "bureau_balance": 0.1,
        "previous_application": 0.2,
        "POS_CASH_balance": 0.1,
        "installments_payments": 0.1,
        "credit_card_balance": 0.1,
    }
    assert pq.read_metadata(tmp_path / "prepared" / "bureau_balance.parquet").num_rows == 4  # orphans are kept
    assert metrics["columns_description"] is False
    assert "oracle_auc" not in metrics


def test_truth_file_gives_oracle_pd_and_auc(hand_made, tmp_path):
    truth = write_truth(tmp_path / "truth.csv", range(1, 12))
    metrics = prepare(hand_made, tmp_path / "prepared", truth_file=truth)
    oracle = pd.read_parquet(tmp_path / "prepared" / "oracle_pd.parquet")
    assert list(oracle.columns) == ["SK_ID_CURR", "PD"]
    assert sorted(oracle["SK_ID_CURR"]) == list(range(1, 12))
    assert metrics["oracle_auc"] == 1.0


def test_a_truth_file_with_probabilities_outside_zero_one_or_missing_is_refused(hand_made, tmp_path):
    rows = [[str(i), "0.9" if i > 5 else "0.1"] for i in range(1, 12)]
    rows[0][1], rows[1][1] = "1.5", ""
    write_csv_rows(tmp_path / "truth.csv", ["SK_ID_CURR", "PD"], rows)
    with pytest.raises(DataValidationError) as refused:
        prepare(hand_made, tmp_path / "prepared", truth_file=tmp_path / "truth.csv")
    assert "truth.csv, column PD: 2 rows with PD missing or outside [0, 1]" in str(refused.value)


def test_text_columns_are_kept_as_written_and_others_typed():
    from credit_scoring.dataset.validation import typed

    assert typed(table("application_train").column("NAME_CONTRACT_TYPE")) == '"NAME_CONTRACT_TYPE"'
    assert typed(table("application_train").column("AMT_CREDIT")) == 'TRY_CAST("AMT_CREDIT" AS DOUBLE)'


def test_truth_file_must_cover_every_client(hand_made, tmp_path):
    truth = write_truth(tmp_path / "truth.csv", range(1, 11))
    with pytest.raises(DataValidationError, match=r"truth.csv, column SK_ID_CURR: 1 row of application_test"):
        prepare(hand_made, tmp_path / "prepared", truth_file=truth)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hand", "truth.csv"]


def use_params(tmp_path: Path, monkeypatch, **data) -> None:
    """Run main() in tmp_path with the repo's params.yaml, its data section changed."""
    params = yaml.safe_load((REPO / "params.yaml").read_text())
    params["data"].update(data)
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    monkeypatch.chdir(tmp_path)


def test_main_prepares_a_kaggle_folder(sample_dir, tmp_path, monkeypatch):
    use_params(tmp_path, monkeypatch, source="kaggle", kaggle_dir=str(sample_dir))
    stage.main()
    metrics = json.loads((tmp_path / "reports/metrics/prepare.json").read_text())
    assert metrics["source"] == "kaggle"
    assert metrics["rows"]["application_train"] == 1000
    assert metrics["seconds"] > 0
    assert (tmp_path / "data/prepared/split.parquet").is_file()
    assert [p.name for p in (tmp_path / "reports/metrics").iterdir()] == ["prepare.json"]


def test_main_generates_then_prepares_synthetic_data(hand_made, tmp_path, monkeypatch):
    calls = []

    def generate(n_clients, n_test_clients, seed, out_dir, truth_file):
        calls.append((n_clients, n_test_clients, seed, out_dir, truth_file))
        shutil.copytree(hand_made, out_dir)
        write_truth(truth_file, range(1, 12))

    monkeypatch.setattr("credit_scoring.dataset.synthetic.generate.generate", generate)
    use_params(tmp_path, monkeypatch, source="synthetic", synthetic={"n_clients": 10, "n_test_clients": 1})
    stage.main()
    assert calls == [(10, 1, 42, Path("data/raw/synthetic"), Path("data/raw/synthetic_truth.csv"))]
    metrics = json.loads((tmp_path / "reports/metrics/prepare.json").read_text())
    assert metrics["source"] == "synthetic"
    assert metrics["oracle_auc"] == 1.0
    assert (tmp_path / "data/prepared/oracle_pd.parquet").is_file()


def test_main_rejects_an_unknown_source(tmp_path, monkeypatch):
    use_params(tmp_path, monkeypatch, source="excel")
    with pytest.raises(ValueError, match="data.source must be 'synthetic', 'kaggle' or 'database', not 'excel'"):
        stage.main()
