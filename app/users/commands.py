"""The commands of ``python -m app.users`` (EVENTS_URL names the store):

    add NAME --role ROLE          a person's account (advisor, reviewer, risk, admin); the password is read from
                                  the terminal (typed twice, not shown) or from the first line of stdin
    disable NAME / enable NAME    refuse (or accept again) the person's sign-in and tokens
    reset-password NAME           a new password, read as for add; the name is unlocked
    list                          the accounts
    key create NAME --owner PERSON --scopes SCOPE [SCOPE ...] [--days N]
                                  an application's key, printed once (only its hash is stored)
    key revoke ID / key list      rotate: create the new key, move the application, revoke the old one
    accesses --client ID          who accessed a client's data (GDPR art. 15), newest first

A password is never an argument: arguments end up in shell histories and process lists.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from datetime import UTC, datetime, timedelta
from typing import TextIO

from sqlalchemy import Engine

from credit_scoring.production import accounts
from credit_scoring.production.accesses import client_accesses, create_access_table
from credit_scoring.production.events import create_store


def parser() -> argparse.ArgumentParser:
    main = argparse.ArgumentParser(prog="python -m app.users", description="Accounts, keys and the access log "
                                   "of the credit-scoring API (store: EVENTS_URL, default sqlite:///events.db)")
    commands = main.add_subparsers(dest="command", required=True)
    add = commands.add_parser("add", help="a person's account; the password is read from the terminal or stdin")
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=accounts.ROLES)
    for name, text in (("disable", "refuse the person's sign-in and tokens"), ("enable", "accept them again"),
                       ("reset-password", "a new password, read from the terminal or stdin")):
        commands.add_parser(name, help=text).add_argument("name")
    commands.add_parser("list", help="the accounts")
    key = commands.add_parser("key", help="applications' keys").add_subparsers(dest="key_command", required=True)
    create = key.add_parser("create", help="a new key, printed once")
    create.add_argument("name", help="the application")
    create.add_argument("--owner", required=True, help="the person answerable for the application")
    create.add_argument("--scopes", nargs="+", required=True, choices=accounts.KEY_SCOPES)
    create.add_argument("--days", type=int, help="days before the key expires (default: never)")
    key.add_parser("revoke", help="refuse a key from now on").add_argument("id")
    key.add_parser("list", help="the keys (never their secrets)")
    accesses = commands.add_parser("accesses", help="who accessed a client's data")
    accesses.add_argument("--client", type=int, required=True, help="SK_ID_CURR")
    return main


def read_password(stdin: TextIO, prompt=getpass.getpass) -> str:
    """The new password: typed twice on a terminal, else the first line of stdin."""
    if stdin.isatty():
        first = prompt("Password: ")
        if prompt("Password again: ") != first:
            raise accounts.AccountError("password", "the two passwords differ")
        return first
    return stdin.readline().rstrip("\r\n")


def _when(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC") if moment else "-"


def run(args: argparse.Namespace, engine: Engine, stdin: TextIO, out: TextIO) -> None:
    """One command on the store (AccountError for a refused one)."""
    if args.command == "add":
        user = accounts.add_user(engine, args.name, args.role, read_password(stdin))
        print(f"account {user.name} created, role {user.role}", file=out)
    elif args.command in ("disable", "enable"):
        accounts.set_enabled(engine, args.name, args.command == "enable")
        print(f"account {args.name} {args.command}d", file=out)
    elif args.command == "reset-password":
        accounts.reset_password(engine, args.name, read_password(stdin))
        print(f"password of {args.name} changed", file=out)
    elif args.command == "list":
        for user in accounts.list_users(engine):
            state = "enabled" if user.enabled else "disabled"
            print(f"{user.name}\t{user.role}\t{state}\tcreated {_when(user.created_at)}", file=out)
    elif args.command == "key":
        _key(args, engine, out)
    elif args.command == "accesses":
        for access in client_accesses(engine, args.client):
            print(f"{_when(access.accessed_at)}\t{access.who} ({access.kind})\t{access.route}\t{access.request_id}",
                  file=out)


def _key(args: argparse.Namespace, engine: Engine, out: TextIO) -> None:
    if args.key_command == "create":
        if args.days is not None and args.days < 1:
            raise accounts.AccountError("days", "at least one day")
        expires = datetime.now(UTC) + timedelta(days=args.days) if args.days else None
        key, secret = accounts.create_key(engine, args.name, args.owner, args.scopes, expires)
        print(f"key {key.id} for {key.name} (owner {key.owner}, scopes {' '.join(key.scopes)}, expires "
              f"{_when(key.expires_at) if key.expires_at else 'never'}). The key, shown only now:\n{secret}", file=out)
    elif args.key_command == "revoke":
        accounts.revoke_key(engine, args.id)
        print(f"key {args.id} revoked", file=out)
    else:
        for key in accounts.list_keys(engine):
            state = "revoked" if key.revoked_at else "expired" if not key.valid(datetime.now(UTC)) else "valid"
            print(f"{key.id}\t{key.name}\towner {key.owner}\t{' '.join(key.scopes)}\t{state}\tcreated "
                  f"{_when(key.created_at)}\texpires {_when(key.expires_at)}", file=out)


def main(argv: list[str] | None = None, stdin: TextIO = sys.stdin, out: TextIO = sys.stdout) -> int:
    args = parser().parse_args(argv)
    engine = create_store()
    accounts.create_account_tables(engine)
    create_access_table(engine)
    try:
        run(args, engine, stdin, out)
    except accounts.AccountError as error:
        print(f"refused: {error}", file=sys.stderr)
        return 2
    finally:
        engine.dispose()
    return 0
