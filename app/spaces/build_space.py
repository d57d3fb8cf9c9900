"""Assemble the Docker build context of the Hugging Face Space of one service (`api` or `ui`).

The service's Dockerfile is the one description of what its image holds: this script copies exactly the paths
the Dockerfile's COPY lines name — code and requirements from the git checkout, DVC outputs (the served model,
the clients' data) from the folder where the pipeline ran — writes the Dockerfile as `Dockerfile`, and writes
the Space's README.md, whose front matter declares `sdk: docker` and the `app_port` the Dockerfile EXPOSEs.

    python -m app.spaces.build_space api build/space-api
    python -m app.spaces.build_space ui build/space-ui
"""

from __future__ import annotations

import argparse
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import dockerfile
import yaml
from huggingface_hub import SpaceCard, SpaceCardData

from app.spaces.cli import run_command

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Service:
    """One deployable service: its Dockerfile and how its Space presents itself."""

    dockerfile: str  # relative to the repository root
    title: str
    emoji: str
    short_description: str  # Hugging Face keeps at most 60 characters
    body: str


SERVICES = {
    "api": Service(
        dockerfile="app/Dockerfile.api",
        title="Home Credit scoring API",
        emoji="🏦",
        short_description="Credit default scoring API with explanations",
        body=(
            "Litestar prediction API of the open, reproducible Home Credit scoring project: `python -m app.api` "
            "over the champion model and client data rebuilt by `dvc repro` from the repository's "
            "`params.yaml`.\n\n"
            "- OpenAPI: `/schema`; health: `/health`.\n"
            "- People sign in at `POST /auth/token` (accounts made with `python -m app.users` against "
            "`EVENTS_URL`); applications send their key in `X-API-Key`. Each operation of `/schema` names its "
            "security and the right it needs.\n"
            "- Space secrets: `TOKEN_SECRET` (signs people's tokens) and `EVENTS_URL` (a PostgreSQL URL holding "
            "the decisions, the accounts and the access log, which must outlive a restart of the Space).\n"
        ),
    ),
    "ui": Service(
        dockerfile="app/Dockerfile.ui",
        title="Prêt à dépenser — tableau de bord",
        emoji="📊",
        short_description="Tableau de bord des chargés de relation",
        body=(
            "Gradio dashboard for relationship managers (in French): `python -m app.ui`. It only speaks HTTP "
            "to the prediction API, at the Space variable `API_URL`. It holds no key: each person signs in with "
            "their own account, and the API answers only what that person's role allows.\n"
        ),
    ),
}


@dataclass(frozen=True)
class DockerfileSpec:
    """What the deployment needs to know from a Dockerfile."""

    copy_sources: tuple[str, ...]  # build-context paths, as written (no COPY --from)
    exposed_ports: tuple[int, ...]
    env: dict[str, str]
    user: str | None
    cmd: tuple[str, ...]
    healthcheck: tuple[str, ...]


def read_dockerfile(path: Path) -> DockerfileSpec:
    """Parse a Dockerfile with BuildKit's own parser (the `dockerfile` package) into a DockerfileSpec."""
    sources: list[str] = []
    ports: list[int] = []
    env: dict[str, str] = {}
    user = None
    cmd: tuple[str, ...] = ()
    healthcheck: tuple[str, ...] = ()
    for command in dockerfile.parse_file(str(path)):
        kind = command.cmd.upper()
        if kind in ("COPY", "ADD"):
            if any(flag.startswith("--from") for flag in command.flags):
                continue
            sources.extend(command.value[:-1])
        elif kind == "EXPOSE":
            ports.extend(int(port.split("/")[0]) for port in command.value)
        elif kind == "ENV":
            env.update(zip(command.value[::2], command.value[1::2]))
        elif kind == "USER":
            user = command.value[0]
        elif kind == "CMD":
            if not command.json:
                raise ValueError(f"{path}: CMD must use the exec (JSON) form so the service gets the signals")
            cmd = command.value
        elif kind == "HEALTHCHECK":
            healthcheck = command.value
    return DockerfileSpec(tuple(sources), tuple(ports), env, user, cmd, healthcheck)


def app_port(spec: DockerfileSpec, path: Path) -> int:
    """The one port the container listens on: EXPOSE and ENV PORT must agree (Spaces route to `app_port`)."""
    if len(spec.exposed_ports) != 1:
        raise ValueError(f"{path}: expected exactly one EXPOSE port, found {list(spec.exposed_ports)}")
    port = spec.exposed_ports[0]
    if spec.env.get("PORT") != str(port):
        raise ValueError(f"{path}: ENV PORT={spec.env.get('PORT')!r} differs from EXPOSE {port}")
    return port


def dvc_outputs(dvc_yaml: Path) -> set[str]:
    """Paths every stage of dvc.yaml writes (entries of `outs`, with or without options)."""
    stages = yaml.safe_load(dvc_yaml.read_text(encoding="utf-8"))["stages"]
    outs: set[str] = set()
    for stage in stages.values():
        for out in stage.get("outs", []):
            outs.add(next(iter(out)) if isinstance(out, dict) else out)
    return outs


def is_dvc_output(source: str, outputs: set[str]) -> bool:
    path = PurePosixPath(source)
    return any(path == PurePosixPath(out) or PurePosixPath(out) in path.parents for out in outputs)


def entry_module(cmd: tuple[str, ...]) -> str:
    """`app.api` from `python -m app.api`."""
    if len(cmd) < 3 or cmd[0] != "python" or cmd[1] != "-m":
        raise ValueError(f"CMD {list(cmd)} is not `python -m <module>`")
    return cmd[2]


def space_readme(service: Service, port: int) -> str:
    """README.md of the Space: the front matter Hugging Face reads (sdk, app_port, ...) and a short body."""
    data = SpaceCardData(
        title=service.title,
        emoji=service.emoji,
        colorFrom="blue",
        colorTo="green",
        sdk="docker",
        app_port=port,
        pinned=False,
        short_description=service.short_description,
    )
    return str(SpaceCard.from_template(data, template_str="---\n{{ card_data }}\n---\n\n" + service.body))


def build_space(name: str, out_dir: Path, code_root: Path = ROOT, artifact_root: Path = ROOT) -> Path:
    """Write the Space folder of service `name` into `out_dir` (absent or empty) and return it."""
    if name not in SERVICES:
        raise ValueError(f"unknown service {name!r}; expected one of {sorted(SERVICES)}")
    service = SERVICES[name]
    out_dir = Path(out_dir)
    if out_dir.exists() and any(out_dir.iterdir()):
        raise FileExistsError(f"{out_dir} is not empty: the Space folder must hold only what the Dockerfile copies")
    docker_path = code_root / service.dockerfile
    spec = read_dockerfile(docker_path)
    port = app_port(spec, docker_path)
    outputs = dvc_outputs(code_root / "dvc.yaml")

    missing = []
    for source in spec.copy_sources:
        if any(char in source for char in "*?["):
            raise ValueError(f"{docker_path}: COPY source {source!r} has a wildcard; name each path")
        from_root = artifact_root if is_dvc_output(source, outputs) else code_root
        origin = from_root / source
        if not origin.exists():
            missing.append(str(origin))
    if missing:
        raise FileNotFoundError(
            f"{docker_path} copies paths that do not exist: {', '.join(missing)}. DVC outputs (models/, data/) "
            "come from a pipeline run: `dvc repro explain` writes all the API needs."
        )

    out_dir.mkdir(parents=True, exist_ok=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache")
    for source in spec.copy_sources:
        from_root = artifact_root if is_dvc_output(source, outputs) else code_root
        origin, target = from_root / source, out_dir / source
        if origin.is_dir():
            shutil.copytree(origin, target, ignore=ignore, dirs_exist_ok=True)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(origin, target)

    module = entry_module(spec.cmd)
    module_path = out_dir.joinpath(*module.split("."))
    if not (module_path.with_suffix(".py").is_file() or (module_path / "__main__.py").is_file()):
        raise FileNotFoundError(f"{docker_path} runs `python -m {module}`, but the Space has no such module")

    shutil.copy2(docker_path, out_dir / "Dockerfile")
    (out_dir / "README.md").write_text(space_readme(service, port), encoding="utf-8")
    return out_dir


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("service", choices=sorted(SERVICES))
    parser.add_argument("out_dir", type=Path, help="folder to write (absent or empty)")
    parser.add_argument(
        "--artifacts", type=Path, default=ROOT, help="where the pipeline ran (DVC outputs); default: this checkout"
    )
    args = parser.parse_args(argv)

    def build() -> str:
        out = build_space(args.service, args.out_dir, artifact_root=args.artifacts)
        return f"Space folder of the {args.service} service written to {out}"

    return run_command("build_space", build, (ValueError, FileNotFoundError, FileExistsError))


if __name__ == "__main__":
    sys.exit(main())
