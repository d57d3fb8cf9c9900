"""The bank database's admin command: ``python -m credit_scoring.dataset.bank
{load,check,backup,restore,migrate}``."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from credit_scoring.common import paths
from credit_scoring.common.params import load_params
from credit_scoring.dataset.bank import database as bank
from credit_scoring.dataset.bank.audit import backup, check, restore
from credit_scoring.dataset.bank.database import (
    Database,
)
from credit_scoring.dataset.bank.load import Target, load, migrate

# ---------------------------------------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m credit_scoring.dataset.bank", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("load").add_argument("--from", dest="source", type=Path, default=paths.PREPARED)
    commands.add_parser("check")
    commands.add_parser("backup").add_argument("--to", dest="path", type=Path, required=True)
    commands.add_parser("restore").add_argument("--from", dest="path", type=Path, required=True)
    commands.add_parser("migrate")
    return parser.parse_args(argv)


def load_command(target: Target, args: argparse.Namespace) -> int:
    started = time.perf_counter()
    rows = load(target, args.source)
    print(f"loaded {sum(rows.values()):,} rows into {bank.masked(target.url)} in {time.perf_counter() - started:.1f} s")
    print(json.dumps(rows, indent=2))
    return 0


def check_command(target: Target, args: argparse.Namespace) -> int:
    with Database(target.url, target.schema) as db:
        report = check(db)
    print(json.dumps(report, indent=2))
    return 1 if report["problems"] else 0


def backup_command(target: Target, args: argparse.Namespace) -> int:
    manifest = backup(target, args.path)
    print(f"backed up {len(manifest['tables'])} tables of {bank.masked(target.url)} to {args.path}")
    return 0


def restore_command(target: Target, args: argparse.Namespace) -> int:
    manifest = restore(target, args.path)
    print(f"restored {len(manifest['tables'])} tables into {bank.masked(target.url)}; row counts and checksums "
          "verified")
    return 0


def migrate_command(target: Target, args: argparse.Namespace) -> int:
    if not target.postgres:
        print("the embedded DuckDB file has no roles: its access is the file's permissions (600), and the "
              "pipeline and the API open it read-only; set DATABASE_URL to migrate a PostgreSQL database")
        return 1
    with bank.postgres(target.url) as pg:
        migrate(pg, target)
    print(f"roles {target.loader_role}, {target.reader_role} and privileges set on {bank.masked(target.url)}")
    return 0


COMMANDS = {"load": load_command, "check": check_command, "backup": backup_command, "restore": restore_command,
            "migrate": migrate_command}


def main(argv: list[str] | None = None) -> int:
    """The command named on the line, on the database params.yaml ``data.database`` (or DATABASE_URL) names."""
    args = parse_args(argv)
    return COMMANDS[args.command](Target.from_params(load_params()), args)


if __name__ == "__main__":
    sys.exit(main())
