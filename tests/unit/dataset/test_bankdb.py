"""The bank database on tiny synthetic data: the embedded DuckDB file always, PostgreSQL when the local server
answers (its own scratch databases and roles, dropped afterwards). Constraints present, orphans quarantined,
the read-only role refused writes, backup -> restore identical, features from the database equal to features
from the CSVs, one client's rows read back for the API."""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
import yaml

from credit_scoring.dataset.bank import __main__ as bank_command
from credit_scoring.dataset.bank import audit
from credit_scoring.dataset.bank import database as bank
from credit_scoring.dataset.bank import load as loading
from credit_scoring.dataset.bank.database import Database, client_rows, foreign_keys, load_order
from credit_scoring.dataset.preparation import prepare
from credit_scoring.dataset.schema import FOREIGN_KEYS, HISTORY_TABLES, TABLE_NAMES
from credit_scoring.dataset.synthetic.generate import generate
from credit_scoring.features.application import application_features, application_frame
from credit_scoring.features.history_engine import history_features

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> dict:
    """Raw CSVs of 300 + 50 clients (5% of bureau_balance orphans, as in Kaggle) and their prepared tables."""
    root = tmp_path_factory.mktemp("bank")
    generate(300, 50, 7, root / "raw", root / "truth.csv", log=lambda *a: None)
    metrics = prepare(root / "raw", root / "prepared", 0.2, 7)
    return {"root": root, "raw": root / "raw", "prepared": root / "prepared", "metrics": metrics}


@pytest.fixture(scope="module")
def embedded(data) -> loading.Target:
    target = loading.Target(str(data["root"] / "bank.duckdb"))
    loading.load(target, data["prepared"])
    return target


def params_for(project: Path, **data) -> Path:
    params = yaml.safe_load((REPO / "params.yaml").read_text())
    params["data"].update(data)
    project.mkdir(parents=True, exist_ok=True)
    (project / "params.yaml").write_text(yaml.safe_dump(params))
    return project


def features_of(project: Path, monkeypatch) -> dict[str, pd.DataFrame]:
    """prepare then featurize in `project`, as `dvc repro` runs them; the feature files and prepare's metrics."""
    from stages import featurize
    from stages import prepare as prepare_stage

    monkeypatch.chdir(project)
    prepare_stage.main()
    featurize.main()
    out = {name: pd.read_parquet(project / "data/features" / f"{name}.parquet") for name in ("train", "test")}
    return {**out, "metrics": pd.read_json(project / "reports/metrics/prepare.json", typ="series")}


@pytest.fixture(scope="module")
def csv_features(data, tmp_path_factory) -> dict:
    """Features of the raw CSVs read as a Kaggle folder: the reference every database source must equal."""
    project = params_for(tmp_path_factory.mktemp("csv"), source="kaggle", kaggle_dir=str(data["raw"]))
    with pytest.MonkeyPatch.context() as mp:
        return {**features_of(project, mp), "project": project}


def assert_same_features(got: dict, expected: dict) -> None:
    """Equal up to the last bits of sums: the database gives rows in key order, the files in theirs (a variance
    near zero, computed as a difference of two close sums, keeps fewer exact digits: hence the tiny atol)."""
    for name in ("train", "test"):
        pd.testing.assert_frame_equal(got[name], expected[name], check_exact=False, rtol=1e-12, atol=1e-15)
    for key in ("rows", "orphans", "key_duplicates", "history_coverage"):
        assert got["metrics"][key] == expected["metrics"][key], key


# ---------------------------------------------------------------------------------------------------------
# The model
# ---------------------------------------------------------------------------------------------------------


def test_model_has_a_foreign_key_for_every_relation_and_parents_load_first():
    keys = {(fk.table, fk.column): fk for fk in foreign_keys()}
    assert set(FOREIGN_KEYS) <= set(keys)
    assert keys[("bureau", "SK_ID_CURR")].parent == bank.CLIENTS  # train or test clients: one parent table
    assert keys[("bureau_balance", "SK_ID_BUREAU")].parent == "bureau"
    order = load_order()
    assert sorted(order) == sorted((bank.CLIENTS, *TABLE_NAMES))
    assert all(order.index(fk.parent) < order.index(fk.table) for fk in foreign_keys())
    assert loading.quarantined() == [t for t in order if t in {c for c, _ in FOREIGN_KEYS}]


def test_remote_hosts_get_tls_unless_told_otherwise(monkeypatch):
    monkeypatch.delenv("PGSSLMODE", raising=False)
    assert "sslmode=require" in bank.libpq_url("postgresql+psycopg://reader:pw@db.bank.example:5432/bank")
    assert "sslmode=verify-full" in bank.libpq_url("postgresql://r@db.bank.example/bank?sslmode=verify-full")
    assert "sslmode" not in bank.libpq_url("postgresql://r@127.0.0.1/bank")
    monkeypatch.setenv("PGSSLMODE", "verify-ca")
    assert "sslmode" not in bank.libpq_url("postgresql://r@db.bank.example/bank")  # libpq reads PGSSLMODE
    conninfo, env = bank.without_password("postgresql+psycopg://reader:s3cret@127.0.0.1/bank")
    assert "s3cret" not in conninfo and env["PGPASSWORD"] == "s3cret"
    assert "s3cret" not in bank.masked("postgresql://reader:s3cret@127.0.0.1/bank")


# ---------------------------------------------------------------------------------------------------------
# The embedded default (DuckDB file)
# ---------------------------------------------------------------------------------------------------------


def test_embedded_load_declares_the_keys_and_quarantines_the_orphans(data, embedded):
    with Database(embedded.url) as db:
        report = audit.check(db)
        declared = db.frame(
            "SELECT constraint_type, count(*) AS n FROM information_schema.table_constraints "
            "WHERE table_schema = 'bank' AND constraint_type IN ('PRIMARY KEY', 'FOREIGN KEY') GROUP BY 1"
        ).set_index("constraint_type")["n"]
    assert report["problems"] == [] and report["missing_constraints"] == []
    assert declared.to_dict() == {"PRIMARY KEY": 5, "FOREIGN KEY": len(foreign_keys())}
    orphans = data["metrics"]["orphans"]
    assert orphans["bureau_balance.SK_ID_BUREAU"] > 0  # the generator makes them, as Kaggle has them
    for child, column in FOREIGN_KEYS:
        assert report["quarantined"][bank.orphans_table(child)] == orphans[f"{child}.{column}"], child
        quarantined = report["quarantined"][bank.orphans_table(child)]
        assert report["rows"][child] + quarantined == data["metrics"]["rows"][child], child
    assert report["rows"][bank.CLIENTS] == 350
    with bank.open_embedded(embedded.url) as con:
        indexed = {r[0] for r in con.execute("SELECT table_name FROM duckdb_indexes()").fetchall()}
    assert {"bureau", "bureau_balance", "POS_CASH_balance", "bureau_balance_orphans"} <= indexed


def test_embedded_keys_refuse_orphans_and_readers_cannot_write(embedded, tmp_path):
    copy = tmp_path / "bank.duckdb"
    shutil.copy(embedded.url, copy)
    with bank.open_embedded(copy, read_only=False) as con:
        with pytest.raises(duckdb.ConstraintException, match="foreign key"):
            con.execute("INSERT INTO bank.bureau_balance VALUES (-1, -3, 'C')")
        with pytest.raises(duckdb.ConstraintException):
            con.execute("INSERT INTO bank.application_test SELECT * FROM bank.application_test LIMIT 1")
    with Database(str(copy)) as db, pytest.raises(duckdb.InvalidInputException, match="read-only"):
        db.frame("INSERT INTO bank.client VALUES (-1, 'test')")


def brought_without_constraints(data: dict, path: Path) -> Path:
    """An embedded database whose tables were copied in as they are, without keys or the client table."""
    with bank.open_embedded(path, read_only=False) as con:
        con.execute("CREATE SCHEMA bank")
        for name in TABLE_NAMES:
            parquet = data["prepared"] / f"{name}.parquet"
            con.execute(f"CREATE TABLE bank.\"{name}\" AS SELECT * FROM read_parquet('{parquet}')")
    return path


def test_check_reports_a_database_brought_without_constraints(data, tmp_path):
    path = brought_without_constraints(data, tmp_path / "brought.duckdb")
    with Database(str(path)) as db:
        report = audit.check(db)
    n = data["metrics"]["orphans"]["bureau_balance.SK_ID_BUREAU"]
    assert f"bureau_balance.SK_ID_BUREAU: {n} rows without a parent" in report["problems"]
    assert "table client is missing" in report["problems"]
    assert "constraint missing: bureau PRIMARY KEY SK_ID_BUREAU" in report["problems"]


def test_embedded_backup_restores_equal_tables_and_refuses_a_damaged_one(embedded, tmp_path):
    target = loading.Target(str(tmp_path / "bank.duckdb"))
    shutil.copy(embedded.url, target.url)
    manifest = audit.backup(target, tmp_path / "backup")
    assert manifest["tables"]["bureau_balance_orphans"]["rows"] > 0
    Path(target.url).unlink()
    assert audit.restore(target, tmp_path / "backup") == manifest
    with Database(target.url) as db:
        assert audit.table_fingerprints(db) == manifest["tables"]
        assert audit.check(db)["problems"] == []
    # one value changed in the backup: the restore must notice and leave the database as it was
    export = tmp_path / "backup" / "export"
    damaged = next(export.glob("*bureau_balance.parquet"))
    with duckdb.connect() as con:
        con.execute(f"COPY (SELECT * REPLACE (\"MONTHS_BALANCE\" - 1 AS \"MONTHS_BALANCE\") FROM '{damaged}') "
                    f"TO '{damaged}.new' (FORMAT parquet)")
    Path(f"{damaged}.new").replace(damaged)
    with pytest.raises(RuntimeError, match="bureau_balance"):
        audit.restore(target, tmp_path / "backup")
    with Database(target.url) as db:
        assert audit.table_fingerprints(db) == manifest["tables"]


def test_load_from_raw_csvs_equals_load_from_prepared_tables(data, embedded, tmp_path):
    target = loading.Target(str(tmp_path / "from_csv.duckdb"))
    loading.load(target, data["raw"])
    with Database(target.url) as from_csv, Database(embedded.url) as from_parquet:
        assert audit.table_fingerprints(from_csv) == audit.table_fingerprints(from_parquet)
    broken = tmp_path / "broken"
    shutil.copytree(data["raw"], broken)
    text = (broken / "bureau.csv").read_text().splitlines()
    text[1] = text[1].replace(",", ",oops,", 1)
    (broken / "bureau.csv").write_text("\n".join(text) + "\n")
    with pytest.raises(ValueError, match="bureau.csv"):
        loading.load(target, broken)


def test_features_from_the_embedded_database_equal_features_from_csv(embedded, csv_features, tmp_path, monkeypatch):
    project = params_for(tmp_path / "db", source="database")
    settings = yaml.safe_load((project / "params.yaml").read_text())
    settings["data"]["database"]["path"] = embedded.url
    (project / "params.yaml").write_text(yaml.safe_dump(settings))
    monkeypatch.delenv(bank.URL_VARIABLE, raising=False)
    assert_same_features(features_of(project, monkeypatch), csv_features)
    assert not list((project / "data/raw").iterdir())  # the scratch export is gone


def test_one_client_read_from_the_database_scores_as_in_the_batch(data, embedded, csv_features):
    bureau = pd.read_parquet(data["prepared"] / "bureau.parquet")
    balances = pd.read_parquet(data["prepared"] / "bureau_balance.parquet")
    client = int(bureau[bureau["SK_ID_BUREAU"].isin(balances["SK_ID_BUREAU"])]["SK_ID_CURR"].min())
    with Database(embedded.url) as db:
        rows = client_rows(db, client)
        assert client_rows(db, -1) is None
    assert rows.sample in ("train", "test") and rows.application["SK_ID_CURR"] == client
    expected_bureau = bureau[bureau["SK_ID_CURR"] == client]
    assert sorted(rows.history["bureau"]["SK_ID_BUREAU"]) == sorted(expected_bureau["SK_ID_BUREAU"])
    assert len(rows.history["bureau_balance"]) == balances["SK_ID_BUREAU"].isin(expected_bureau["SK_ID_BUREAU"]).sum()
    assert set(rows.history) == set(HISTORY_TABLES)
    batch = csv_features[rows.sample].set_index("SK_ID_CURR").loc[[client]]
    history = history_features(rows.history)  # what the API computes from the database's rows
    pd.testing.assert_frame_equal(history, batch[history.columns], check_exact=False, rtol=1e-12, check_names=False)
    application = application_features(application_frame([rows.application]))
    np.testing.assert_allclose(application.to_numpy(dtype=float), batch[application.columns].to_numpy(dtype=float),
                               rtol=1e-12)


# ---------------------------------------------------------------------------------------------------------
# PostgreSQL
# ---------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def server(postgres_url):
    """Scratch databases and roles of this module's own (unique names), dropped at the end."""
    import psycopg

    admin_url = bank.libpq_url(postgres_url)
    tag = uuid.uuid4().hex[:10]
    created = []

    def new_database(name: str) -> str:
        database = f"bank_{name}_{tag}"
        with psycopg.connect(admin_url, autocommit=True) as con:
            con.execute(f'CREATE DATABASE "{database}"')
        created.append(database)
        return bank.libpq_url(postgres_url.rsplit("/", 1)[0] + "/" + database)

    roles = {"loader_role": f"bank_loader_{tag}", "reader_role": f"bank_reader_{tag}"}
    yield new_database, roles
    with psycopg.connect(admin_url, autocommit=True) as con:
        for database in created:
            con.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        for role in roles.values():
            con.execute(f'DROP ROLE IF EXISTS "{role}"')


def as_role(url: str, role: str) -> str:
    import sqlalchemy as sa

    return sa.make_url(url).set(username=role, password=None).render_as_string(hide_password=False)


@pytest.fixture(scope="module")
def loaded(server, data):
    new_database, roles = server
    target = loading.Target(new_database("main"), **roles)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("BANK_READER_PASSWORD", "reader-" + uuid.uuid4().hex)
        loading.load(target, data["prepared"], log=lambda *a: None)
    return target


@pytest.mark.postgres
def test_postgres_load_declares_keys_indexes_and_quarantines(loaded, embedded):
    with Database(loaded.url) as db:
        report = audit.check(db)
        assert audit.declared_constraints(db) == set(
            db.frame(audit.CONSTRAINTS_SQL, {"schema": "bank"}).itertuples(index=False, name=None)
        ) == audit.expected_constraints()  # the catalog and information_schema agree for the owner
        indexes = set(db.frame("SELECT indexname FROM pg_indexes WHERE schemaname = 'bank'")["indexname"])
        references = db.frame("SELECT count(*) FROM information_schema.referential_constraints "
                              "WHERE constraint_schema = 'bank'").iloc[0, 0]
        password_set = db.frame("SELECT rolpassword IS NOT NULL AS p FROM pg_authid WHERE rolname = :r",
                                {"r": loaded.reader_role}).iloc[0, 0]
    with Database(embedded.url) as same_data:
        assert report["rows"] == audit.check(same_data)["rows"]
        assert report["quarantined"] == audit.check(same_data)["quarantined"]
    assert report["problems"] == [] and report["missing_constraints"] == []
    assert references == len(foreign_keys())
    assert {"bureau_balance_SK_ID_BUREAU_MONTHS_BALANCE_idx", "bureau_SK_ID_CURR_idx",
            "POS_CASH_balance_SK_ID_CURR_idx", "client_pkey"} <= indexes
    assert password_set  # from BANK_READER_PASSWORD, never from a file


@pytest.mark.postgres
def test_reader_cannot_write_and_loader_writes_only_rows_that_keep_the_keys(loaded):
    import psycopg
    from psycopg import errors

    reader = as_role(loaded.url, loaded.reader_role)
    with psycopg.connect(reader) as con:
        assert con.execute('SELECT count(*) FROM bank."client"').fetchone()[0] == 350
    with psycopg.connect(reader) as con, pytest.raises(errors.ReadOnlySqlTransaction):
        con.execute("INSERT INTO bank.client VALUES (-1, 'test')")
    with psycopg.connect(reader) as con, pytest.raises(errors.InsufficientPrivilege):
        con.execute("SET TRANSACTION READ WRITE")  # even out of read-only mode, no grant to write
        con.execute("INSERT INTO bank.client VALUES (-1, 'test')")
    loader = as_role(loaded.url, loaded.loader_role)
    with psycopg.connect(loader) as con:
        bureau = con.execute('SELECT min("SK_ID_BUREAU") FROM bank.bureau').fetchone()[0]
        con.execute("INSERT INTO bank.bureau_balance VALUES (%s, 1, 'C')", (bureau,))
        con.rollback()
        with pytest.raises(errors.ForeignKeyViolation):
            con.execute("INSERT INTO bank.bureau_balance VALUES (-1, 1, 'C')")
    with psycopg.connect(loader) as con, pytest.raises(errors.InsufficientPrivilege):
        con.execute("CREATE TABLE bank.extra (x int)")


@pytest.mark.postgres
def test_postgres_backup_restores_equal_tables_keys_and_grants(server, loaded, tmp_path):
    new_database, roles = server
    manifest = audit.backup(loaded, tmp_path / "backup")
    copy = loading.Target(new_database("restored"), **roles)
    assert audit.restore(copy, tmp_path / "backup") == manifest
    with Database(as_role(copy.url, copy.reader_role)) as db:
        assert audit.table_fingerprints(db) == manifest["tables"]
        assert audit.check(db)["problems"] == []


@pytest.mark.postgres
def test_features_from_postgres_equal_features_from_csv(loaded, csv_features, tmp_path, monkeypatch):
    monkeypatch.setenv(bank.URL_VARIABLE, as_role(loaded.url, loaded.reader_role))
    project = params_for(tmp_path / "pg", source="database")
    assert_same_features(features_of(project, monkeypatch), csv_features)


@pytest.mark.postgres
def test_one_client_reads_the_same_from_postgres_and_the_embedded_file(loaded, embedded):
    with Database(embedded.url) as db:
        client = int(db.frame('SELECT min("SK_ID_CURR") FROM bank.bureau').iloc[0, 0])
        expected = client_rows(db, client)
    with Database(as_role(loaded.url, loaded.reader_role)) as db:
        got = client_rows(db, client)
    assert got.sample == expected.sample
    assert got.application == expected.application  # plain Python values, None for missing
    for name in HISTORY_TABLES:
        key = list(expected.history[name].columns)
        a = got.history[name].sort_values(key).reset_index(drop=True)
        b = expected.history[name].sort_values(key).reset_index(drop=True)
        pd.testing.assert_frame_equal(a, b, obj=name)


@pytest.mark.postgres
def test_sslmode_from_the_url_or_the_environment_is_honoured(loaded, monkeypatch):
    import psycopg
    import sqlalchemy as sa

    # the local test server has no TLS: a client that honours sslmode=require must refuse to go on in clear
    with pytest.raises(psycopg.OperationalError, match="SSL"), bank.postgres(loaded.url + "?sslmode=require"):
        pass
    monkeypatch.setenv("PGSSLMODE", "require")
    with pytest.raises(sa.exc.OperationalError, match="SSL"), Database(loaded.url) as db:
        db.frame("SELECT 1")










# ---------------------------------------------------------------------------------------------------------
# The command line, through its entry points
# ---------------------------------------------------------------------------------------------------------




def project_with_database(root: Path, path: Path) -> Path:
    database = {**yaml.safe_load((REPO / "params.yaml").read_text())["data"]["database"], "path": str(path)}
    return params_for(root, database=database)


def test_the_commands_load_check_and_refuse_to_migrate_the_embedded_file(data, tmp_path, monkeypatch, capsys):
    """`python -m credit_scoring.dataset.bank load|check|migrate` on the file params.yaml names: load says what it
    loaded, check exits 0 on the database load built, and migrate exits 1 with the reason (DuckDB has no roles)."""
    import json

    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.chdir(project_with_database(tmp_path / "project", tmp_path / "cmd.duckdb"))
    assert bank_command.main(["load", "--from", str(data["prepared"])]) == 0
    out = capsys.readouterr().out
    assert out.startswith("loaded ") and "cmd.duckdb" in out
    rows = json.loads(out[out.index("{"):])
    assert rows["application_train"] == data["metrics"]["rows"]["application_train"]
    assert bank_command.main(["check"]) == 0
    assert json.loads(capsys.readouterr().out)["problems"] == []
    assert bank_command.main(["migrate"]) == 1
    assert "the embedded DuckDB file has no roles" in capsys.readouterr().out
    with pytest.raises(SystemExit) as stopped:
        bank_command.main(["vacuum"])
    assert stopped.value.code == 2


def test_check_exits_1_naming_the_problems_from_the_command_line(data, tmp_path):
    """The real entry point, as an operator runs it: a database brought without its constraints is reported and
    the exit status says so."""
    import json
    import os
    import subprocess
    import sys

    path = brought_without_constraints(data, tmp_path / "brought.duckdb")
    project = project_with_database(tmp_path / "project", path)
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"} | {"PYTHONPATH": str(REPO)}
    done = subprocess.run([sys.executable, "-m", "credit_scoring.dataset.bank", "check"], cwd=project, env=env,
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 1, done.stderr[-2000:]
    problems = json.loads(done.stdout)["problems"]
    assert "table client is missing" in problems
    assert "constraint missing: bureau PRIMARY KEY SK_ID_BUREAU" in problems
