"""The bank database: load, check, back up and restore the 8 Home Credit tables.

    python -m credit_scoring.dataset.bank load [--from DIR]   prepared parquet tables (default) or CSVs
    python -m credit_scoring.dataset.bank check               integrity report (JSON); exit 1 on a broken constraint
    python -m credit_scoring.dataset.bank backup --to DIR     dump + manifest of row counts and checksums per table
    python -m credit_scoring.dataset.bank restore --from DIR  restore, then verify the manifest
    python -m credit_scoring.dataset.bank migrate             (PostgreSQL) roles and privileges, sql/roles.sql

The database is PostgreSQL when ``DATABASE_URL`` is set, else the embedded DuckDB file ``data.database.path``.
The model (tables, keys, quarantine of orphans) is described in `credit_scoring.dataset.bank.database`. A load
rebuilds the schema: DuckDB reads the source files once, splits every table into rows with a parent and orphans, and
streams both, with PostgreSQL's bulk ``COPY``, into tables that get their primary keys, foreign keys and
indexes once filled (one pass each, instead of a check per row); the whole reload is one transaction, so
readers see the old tables until it commits.
"""
