"""Deployment: the Dockerfiles keep the service contract, the Space folders hold what the Dockerfiles copy
with the right front matter, and each image's requirements cover what its code imports.

No Docker engine runs in CI: these checks read the Dockerfiles with BuildKit's parser instead of building."""

import ast
import re
import sys
from importlib import metadata
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from app.spaces.build_space import ROOT, SERVICES, app_port, build_space, entry_module, read_dockerfile
from app.spaces.build_space import main as build_space_main
from app.spaces.push_space import main as push_space_main
from app.spaces.push_space import parse_variables, secret_values

# The service contract (design brief §2): module and default port of each service
CONTRACT = {"api": ("app.api", 8000), "ui": ("app.ui", 7860)}
LOCAL_PACKAGES = {"app", "credit_scoring", "stages"}


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_dockerfile_keeps_the_service_contract(service):
    path = ROOT / SERVICES[service].dockerfile
    spec = read_dockerfile(path)
    module, port = CONTRACT[service]
    assert spec.cmd == ("python", "-m", module)
    assert app_port(spec, path) == port
    assert spec.user == "1000", "Hugging Face Spaces run the container as uid 1000"
    assert spec.healthcheck[0] == "CMD" and "os.environ['PORT']" in spec.healthcheck[-1]
    assert f"requirements-{service}.txt" in spec.copy_sources
    if service == "api":
        assert "/health" in spec.healthcheck[-1]


def test_dockerfile_parsing_rejects_a_port_mismatch_and_a_shell_cmd(tmp_path):
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:3.11-slim\nENV PORT=8000\nEXPOSE 7860\nCMD [\"python\", \"-m\", \"app.api\"]\n")
    with pytest.raises(ValueError, match="ENV PORT='8000' differs from EXPOSE 7860"):
        app_port(read_dockerfile(bad), bad)
    bad.write_text("FROM python:3.11-slim\nCMD python -m app.api\n")
    with pytest.raises(ValueError, match="exec"):
        read_dockerfile(bad)
    with pytest.raises(ValueError, match="not `python -m"):
        entry_module(("uvicorn", "app.api:app"))


def fake_artifacts(root: Path) -> Path:
    """Small stand-ins for the DVC outputs the API image copies (the builder only copies them)."""
    for folder, name in [
        ("models/champion", "model.joblib"),
        ("models/explain", "labels.json"),
        ("data/features", "train.parquet"),
        ("data/prepared", "application_train.parquet"),
    ]:
        (root / folder).mkdir(parents=True)
        (root / folder / name).write_bytes(b"artifact " + name.encode())
    return root


def front_matter(readme: Path) -> dict:
    text = readme.read_text(encoding="utf-8")
    match = re.match(r"---\n(.*?)\n---\n", text, re.DOTALL)
    assert match, "README.md must open with YAML front matter"
    return yaml.safe_load(match.group(1))


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_space_folder_holds_what_the_dockerfile_copies(service, tmp_path):
    artifacts = fake_artifacts(tmp_path / "run")
    out = build_space(service, tmp_path / "space", artifact_root=artifacts)

    dockerfile_in_space = out / "Dockerfile"
    assert dockerfile_in_space.read_text() == (ROOT / SERVICES[service].dockerfile).read_text()
    spec = read_dockerfile(dockerfile_in_space)
    for source in spec.copy_sources:
        assert (out / source).exists(), f"{source} missing from the Space folder"
    assert (out / "requirements.txt").read_text() == (ROOT / "requirements.txt").read_text()
    module, port = CONTRACT[service]
    entry = out / module.replace(".", "/")
    assert entry.with_suffix(".py").is_file() or (entry / "__main__.py").is_file()  # `python -m` finds it
    assert not list(out.rglob("__pycache__"))

    meta = front_matter(out / "README.md")
    assert meta["sdk"] == "docker"
    assert meta["app_port"] == port == app_port(spec, dockerfile_in_space)
    assert {"title", "emoji", "colorFrom", "colorTo", "short_description"} <= set(meta)
    assert len(meta["short_description"]) <= 60

    if service == "api":
        assert (out / "models/champion/model.joblib").read_bytes() == b"artifact model.joblib"
        assert (out / "data/prepared/application_train.parquet").is_file()
    else:
        assert not (out / "models").exists() and not (out / "data").exists()


def test_space_build_names_the_missing_artifacts_and_refuses_a_used_folder(tmp_path, capsys):
    with pytest.raises(FileNotFoundError, match=r"models/champion.*dvc repro explain"):
        build_space("api", tmp_path / "space", artifact_root=tmp_path / "no-run")
    assert not (tmp_path / "space").exists()
    assert build_space_main(["api", str(tmp_path / "space"), "--artifacts", str(tmp_path / "no-run")]) == 1
    assert "dvc repro explain" in capsys.readouterr().err
    used = tmp_path / "used"
    used.mkdir()
    (used / "old.txt").write_text("stale")
    with pytest.raises(FileExistsError, match="not empty"):
        build_space("ui", used)
    with pytest.raises(ValueError, match="unknown service"):
        build_space("worker", tmp_path / "other")
    assert build_space_main(["ui", str(tmp_path / "ui")]) == 0
    assert capsys.readouterr().out == f"Space folder of the ui service written to {tmp_path / 'ui'}\n"


def test_push_command_says_what_is_wrong_in_one_line_before_any_call_to_the_hub(tmp_path, capsys):
    assert push_space_main(["push", str(tmp_path), "--space-id", "owner/name", "--variable", "API_URL"]) == 1
    captured = capsys.readouterr()
    assert captured.err == "push_space: variable 'API_URL' is not NAME=VALUE with both parts set\n"
    assert captured.out == ""


def test_push_reads_secrets_from_the_environment_and_checks_variables():
    assert secret_values(["TOKEN_SECRET"], {"TOKEN_SECRET": "k"}) == {"TOKEN_SECRET": "k"}
    with pytest.raises(ValueError, match="TOKEN_SECRET"):
        secret_values(["TOKEN_SECRET"], {"TOKEN_SECRET": ""})
    assert parse_variables(["API_URL=https://a-b.hf.space"]) == {"API_URL": "https://a-b.hf.space"}
    with pytest.raises(ValueError, match="'API_URL'"):
        parse_variables(["API_URL"])


# Requirements of each image: names only, versions from requirements.txt; and enough for the code it runs.


def requirement_names(path: Path) -> set[str]:
    names = set()
    for line in path.read_text().splitlines():
        line = line.split("#")[0].strip()
        if line and not line.startswith("-"):
            names.add(canonicalize_name(Requirement(line).name))
    return names


def pinned(path: Path) -> dict[str, str]:
    pins = {}
    for line in path.read_text().splitlines():
        line = line.split("#")[0].strip()
        if line and not line.startswith("-"):
            requirement = Requirement(line)
            pins[canonicalize_name(requirement.name)] = str(requirement.specifier)
    return pins


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_service_requirements_are_names_constrained_by_requirements_txt(service):
    path = ROOT / f"requirements-{service}.txt"
    lines = [line.split("#")[0].strip() for line in path.read_text().splitlines()]
    assert "-c requirements.txt" in lines
    pins = pinned(ROOT / "requirements.txt")
    for name in requirement_names(path):
        assert pins.get(name, "").startswith("=="), f"{name} is not pinned with == in requirements.txt"
    assert not [line for line in lines if line and not line.startswith("-") and re.search(r"[=<>~!]", line)], (
        "versions belong in requirements.txt only"
    )


def module_file(module: str) -> Path | None:
    base = ROOT.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def third_party_imports(entry: str) -> set[str]:
    """Top-level names of the non-local, non-standard modules imported (anywhere, lazily too) by `entry` and the
    local modules it imports, followed transitively."""
    seen, todo, external = set(), [entry], set()
    while todo:
        module = todo.pop()
        path = module_file(module)
        if module in seen or path is None:
            continue
        seen.add(module)
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join(parts + ([base] if base else []))
                names = [base] + [f"{base}.{alias.name}" for alias in node.names]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top in LOCAL_PACKAGES:
                    todo.append(name)
                elif top and top not in sys.stdlib_module_names:
                    external.add(top)
    return external


def installed_closure(names: set[str]) -> set[str]:
    """The distributions `names` install, with their dependencies (no extras), as pip would."""
    closure, todo = set(), list(names)
    while todo:
        name = canonicalize_name(todo.pop())
        if name in closure:
            continue
        closure.add(name)
        for line in metadata.requires(name) or []:
            requirement = Requirement(line)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                todo.append(requirement.name)
    return closure


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_service_requirements_cover_the_imports_of_its_code(service):
    module, _ = CONTRACT[service]
    assert module_file(module), f"{module} is missing: the image would have nothing to run"
    installs = installed_closure(requirement_names(ROOT / f"requirements-{service}.txt"))
    providers = metadata.packages_distributions()
    uncovered = {
        name: providers.get(name, ["?"])
        for name in third_party_imports(module)
        if not {canonicalize_name(dist) for dist in providers.get(name, [])} & installs
    }
    assert not uncovered, f"add to requirements-{service}.txt (import: distributions): {uncovered}"


def test_import_scan_follows_local_modules_and_lazy_imports():
    """credit_scoring.explain.local imports lightgbm and shap inside functions and pandas through the bundle."""
    found = third_party_imports("credit_scoring.explain.local")
    assert {"numpy", "pandas", "lightgbm", "shap", "sklearn", "joblib"} <= found
    assert not found & (LOCAL_PACKAGES | {"os", "json"})
