"""The house rules, checked on the source itself (ast and dvc.yaml, nothing runs):

- stages are leaves: no module of the library, the services, the benchmarks or the stages imports `stages`;
- `stages/` holds DVC stages only: each of its modules is the command of a dvc.yaml stage;
- no function or method is longer than 80 lines (from its `def` to the end of its body);
- the module `python -m app.api` runs (`app/api/server.py`) stays under 200 lines;
- the layout names its rooms: no package holds more than 12 modules, no module outside tests is over 500 lines,
  and no two modules of the library or the services have names that differ only by a suffix
  (`features`/`featurization`, `plots`/`plot_data`);
- every module of the library, the services and the stages has its place in the manual's code reference.
- every output DVC tracks is a path of `credit_scoring/common/paths.py`: one of its constants, one built by its
  `metrics()`, `table()` or `figure()`, or a file right inside one of its other folders.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
import yaml

from credit_scoring.common import paths

REPO = Path(__file__).resolve().parents[1]
PRODUCT = ("credit_scoring", "app", "benchmarks", "stages")
MAX_FUNCTION_LINES = 80
MAX_API_LINES = 200
MAX_PACKAGE_MODULES = 12
MAX_MODULE_LINES = 500


def modules(*folders: str) -> list[Path]:
    return sorted(f for folder in folders for f in (REPO / folder).rglob("*.py"))


def parsed(path: Path) -> ast.Module:
    return ast.parse(path.read_text(), filename=str(path))


def imported_modules(tree: ast.Module, path: Path) -> set[str]:
    """Every module an `import` or `from ... import` names, relative imports made absolute."""
    package = path.relative_to(REPO).with_suffix("").parts[:-1]
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = list(package[: len(package) - node.level + 1]) if node.level else []
            names.add(".".join([*base, *([node.module] if node.module else [])]))
    return names


def dvc_stages() -> dict[str, dict]:
    return yaml.safe_load((REPO / "dvc.yaml").read_text())["stages"]


def test_no_module_imports_a_stage():
    offenders = [f"{path.relative_to(REPO)} imports {name}"
                 for path in modules(*PRODUCT)
                 for name in sorted(imported_modules(parsed(path), path))
                 if name == "stages" or name.startswith("stages.")]
    assert not offenders, "stages are run by DVC, never imported:\n" + "\n".join(offenders)


def test_every_module_of_stages_is_the_command_of_a_dvc_stage():
    commands = {" ".join(stage["cmd"].split()[:3]) for stage in dvc_stages().values()}
    modules_ = [path for path in modules("stages") if path.name != "__init__.py"]
    assert modules_
    strays = [str(path.relative_to(REPO)) for path in modules_
              if f"python -m {'.'.join(path.relative_to(REPO).with_suffix('').parts)}" not in commands]
    assert not strays, "stages/ holds DVC stages only; not a dvc.yaml command: " + ", ".join(strays)


def long_functions(path: Path) -> list[str]:
    return [f"{path.relative_to(REPO)}:{node.lineno} {node.name} ({node.end_lineno - node.lineno + 1} lines)"
            for node in ast.walk(parsed(path))
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
            and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES]


def test_no_function_is_longer_than_80_lines():
    offenders = [line for path in modules(*PRODUCT) for line in long_functions(path)]
    assert not offenders, f"functions over {MAX_FUNCTION_LINES} lines:\n" + "\n".join(offenders)


def test_the_api_module_is_short():
    module = REPO / "app" / "api" / "server.py"
    lines = len(module.read_text().splitlines())
    assert lines < MAX_API_LINES, f"{module.relative_to(REPO)} has {lines} lines"


def packages(*folders: str) -> list[Path]:
    return sorted({path.parent for path in modules(*folders)})


def test_no_package_holds_more_than_12_modules():
    crowded = {}
    for package in packages(*PRODUCT):
        own = [f for f in package.glob("*.py") if f.name not in ("__init__.py", "__main__.py")]
        if len(own) > MAX_PACKAGE_MODULES:
            crowded[str(package.relative_to(REPO))] = len(own)
    assert packages("credit_scoring", "app")
    assert not crowded, f"packages of more than {MAX_PACKAGE_MODULES} modules: {crowded}"


def test_no_module_outside_tests_is_over_500_lines():
    long = {str(path.relative_to(REPO)): n for path in modules(*PRODUCT)
            if (n := len(path.read_text().splitlines())) > MAX_MODULE_LINES}
    assert not long, f"modules over {MAX_MODULE_LINES} lines: {long}"


def near_twins(a: str, b: str) -> bool:
    """Two module names that differ only by a suffix: one name's stem (less a plural "s" or its last two letters)
    starts the other (`features`/`featurization`, `plots`/`plot_data`, `explain`/`explanation`)."""
    if a == b:
        return False
    short, long_ = sorted((a, b), key=len)
    stem = short.removesuffix("s") if len(short) > 4 else short
    stem = stem if long_.startswith(stem) else short[:-2]
    return len(stem) >= 4 and long_.startswith(stem)


def test_no_two_modules_differ_only_by_a_suffix():
    names = sorted({path.stem for path in modules("credit_scoring", "app")} - {"__init__", "__main__"})
    twins = [(a, b) for i, a in enumerate(names) for b in names[i + 1:] if near_twins(a, b)]
    assert len(names) > 40
    assert not twins, "module names that differ only by a suffix: " + ", ".join(f"{a}/{b}" for a, b in twins)


@pytest.mark.parametrize("a, b, twins", [
    ("features", "featurization", True), ("plots", "plot_data", True), ("explain", "explanation", True),
    ("schema", "schemas", True), ("drift", "drift_wording", True), ("bundle", "bundle", False),
    ("cost", "controllers", False), ("tuning", "thresholds", False), ("events", "outcomes", False),
])
def test_the_twin_check_tells_near_twins_from_other_names(a, b, twins):
    assert near_twins(a, b) is twins


def tracked_outputs() -> list[Path]:
    outputs = []
    for stage in dvc_stages().values():
        for kind in ("outs", "metrics", "plots"):
            for entry in stage.get(kind, []):
                outputs.extend(Path(p) for p in ([entry] if isinstance(entry, str) else entry))
    return outputs


def known_path(path: Path) -> bool:
    constants = {value for value in vars(paths).values() if isinstance(value, Path)}
    built = {paths.metrics(path.stem), paths.table(path.stem), paths.figure(path.stem)}
    folders = constants - {paths.METRICS, paths.TABLES, paths.FIGURES}  # these three have their builders
    return path in constants or path in built or path.parent in folders


def test_every_output_of_dvc_yaml_is_a_path_of_credit_scoring_paths():
    outputs = tracked_outputs()
    assert len(outputs) > 10
    unknown = [str(p) for p in outputs if not known_path(p)]
    assert not unknown, "dvc.yaml outputs credit_scoring/common/paths.py does not name: " + ", ".join(unknown)


@pytest.mark.parametrize("path, known", [
    (Path("reports/metrics/tune.json"), True), (Path("reports/figures/roc.png"), True),
    (Path("models/champion"), True), (Path("reports/figures/roc.svg"), False), (Path("elsewhere/x.csv"), False),
])
def test_the_output_check_tells_known_paths_from_others(path, known):
    assert known_path(path) is known


def module_name(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def test_every_module_is_in_the_code_reference():
    pages = "\n".join(p.read_text() for p in (REPO / "docs/reference").glob("*.md"))
    documented = {line.removeprefix("::: ").strip() for line in pages.splitlines() if line.startswith("::: ")}
    wanted = {module_name(path) for path in modules("credit_scoring", "app", "stages") if path.name != "__main__.py"}
    assert len(wanted) > 80
    missing = sorted(wanted - documented)
    assert not missing, "modules missing from docs/reference/*.md (add a `::: module` line): " + ", ".join(missing)
