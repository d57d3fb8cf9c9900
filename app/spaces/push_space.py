"""Push a Space folder (written by `app.spaces.build_space`) to a Hugging Face Docker Space.

The token comes from the environment (`HF_TOKEN`, as huggingface_hub reads it). Secrets are passed by the name of
the environment variable that holds them, never on the command line:

    python -m app.spaces.push_space push build/space-api --space-id owner/home-credit-api \\
        --secret TOKEN_SECRET --secret EVENTS_URL
    python -m app.spaces.push_space push build/space-ui --space-id owner/home-credit-ui \\
        --variable API_URL="$(python -m app.spaces.push_space url owner/home-credit-api)"
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping
from pathlib import Path

from huggingface_hub import HfApi

from app.spaces.cli import run_command


def secret_values(names: list[str], environ: Mapping[str, str]) -> dict[str, str]:
    """Values of the secrets named, read from `environ`; a missing or empty one is an error naming it."""
    empty = [name for name in names if not environ.get(name)]
    if empty:
        raise ValueError(
            f"secret(s) {', '.join(empty)} empty or unset in the environment: set them as repository secrets "
            "(Settings → Secrets and variables → Actions) so the workflow can pass them to the Space"
        )
    return {name: environ[name] for name in names}


def parse_variables(pairs: list[str]) -> dict[str, str]:
    """`NAME=VALUE` pairs into a dict; an empty name or value is an error naming the pair."""
    variables = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name or not value:
            raise ValueError(f"variable {pair!r} is not NAME=VALUE with both parts set")
        variables[name] = value
    return variables


def push_space(
    folder: Path,
    space_id: str,
    *,
    secrets: Mapping[str, str],
    variables: Mapping[str, str],
    message: str,
    api: HfApi | None = None,
) -> str:
    """Create the Docker Space if needed, set its secrets and variables, then mirror `folder` onto it.

    Remote files absent from `folder` are deleted in the same commit, so the Space holds exactly the folder.
    Returns the Space's URL.
    """
    if not (Path(folder) / "Dockerfile").is_file() or not (Path(folder) / "README.md").is_file():
        raise FileNotFoundError(f"{folder} has no Dockerfile or README.md: build it with app.spaces.build_space")
    api = api or HfApi()
    repo = api.create_repo(space_id, repo_type="space", space_sdk="docker", exist_ok=True)
    for key, value in secrets.items():
        api.add_space_secret(space_id, key, value)
    for key, value in variables.items():
        api.add_space_variable(space_id, key, value)
    api.upload_folder(
        repo_id=space_id, repo_type="space", folder_path=folder, commit_message=message, delete_patterns="*"
    )
    return str(repo)


def space_url(space_id: str, api: HfApi | None = None) -> str:
    """The URL the Space's app answers on (https://<owner>-<name>.hf.space), as the Hub reports it."""
    host = (api or HfApi()).space_info(space_id).host
    if not host:
        raise ValueError(f"the Hub reports no host for Space {space_id}: has it been created?")
    return host


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    push = commands.add_parser("push", help="create/update the Space from a folder")
    push.add_argument("folder", type=Path)
    push.add_argument("--space-id", required=True, help="owner/name")
    push.add_argument("--secret", action="append", default=[], help="name of an environment variable to set as secret")
    push.add_argument("--variable", action="append", default=[], help="NAME=VALUE, set as a public Space variable")
    push.add_argument("--message", default="Deploy from the repository", help="commit message on the Space")
    url = commands.add_parser("url", help="print the URL the Space's app answers on")
    url.add_argument("space_id")
    args = parser.parse_args(argv)

    def run() -> str:
        if args.command == "url":
            return space_url(args.space_id)
        where = push_space(
            args.folder,
            args.space_id,
            secrets=secret_values(args.secret, os.environ),
            variables=parse_variables(args.variable),
            message=args.message,
        )
        return f"pushed {args.folder} to {where}"

    return run_command("push_space", run)


if __name__ == "__main__":
    sys.exit(main())
