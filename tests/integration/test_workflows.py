"""GitHub Actions workflows and Dockerfiles pass their linters (actionlint with ShellCheck, hadolint), the code
passes `ruff check` under the project's configuration, and the manual builds with `mkdocs build --strict`: any
finding fails. The tools are pinned in requirements.txt and installed beside this interpreter."""

import subprocess
import sysconfig
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPTS = Path(sysconfig.get_path("scripts"))
WORKFLOWS = sorted((REPO / ".github/workflows").glob("*.yml"))
DOCKERFILES = sorted((REPO / "app").glob("Dockerfile.*"))


def run_linter(*args: str) -> subprocess.CompletedProcess:
    tool = SCRIPTS / args[0]
    assert tool.is_file(), f"{tool} missing: pip install -r requirements.txt installs it"
    return subprocess.run([str(tool), *args[1:]], cwd=REPO, capture_output=True, text=True, timeout=120)


def test_the_workflows_and_dockerfiles_exist():
    assert {p.name for p in WORKFLOWS} >= {"ci.yml", "deploy.yml"}
    assert {p.name for p in DOCKERFILES} == {"Dockerfile.api", "Dockerfile.ui"}


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda p: p.name)
def test_workflow_passes_actionlint(workflow):
    shellcheck = SCRIPTS / "shellcheck"
    assert shellcheck.is_file(), "shellcheck missing: actionlint would skip the run: scripts silently"
    result = run_linter("actionlint", "-oneline", f"-shellcheck={shellcheck}", str(workflow.relative_to(REPO)))
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("path", DOCKERFILES, ids=lambda p: p.name)
def test_dockerfile_passes_hadolint(path):
    result = run_linter("hadolint", "--failure-threshold", "info", str(path.relative_to(REPO)))
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_reports_a_broken_workflow(tmp_path):
    """The check can fail: an unknown job dependency and a shell bug are both reported."""
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    broken = tmp_path / ".github/workflows/broken.yml"
    broken.parent.mkdir(parents=True)
    broken.write_text(
        "on: push\njobs:\n  a:\n    needs: nowhere\n    runs-on: ubuntu-latest\n"
        "    steps:\n      - run: echo $UNQUOTED\n"
    )
    result = subprocess.run(
        [str(SCRIPTS / "actionlint"), "-oneline", f"-shellcheck={SCRIPTS / 'shellcheck'}", str(broken)],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 1
    assert "nowhere" in result.stdout and "SC2086" in result.stdout


def test_ruff_finds_nothing():
    result = run_linter("ruff", "check", "--no-cache", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_reports_a_broken_module(tmp_path):
    """The check can fail under the project's configuration: an unused import and an undefined name."""
    broken = tmp_path / "broken.py"
    broken.write_text("import os\n\n\ndef f():\n    return undefined_name\n")
    result = run_linter("ruff", "check", "--no-cache", "--config", str(REPO / "pyproject.toml"), str(broken))
    assert result.returncode == 1
    assert "F401" in result.stdout and "F821" in result.stdout


def test_the_manual_builds_without_a_warning(tmp_path):
    result = run_linter("mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "site/reference/credit_scoring/index.html").is_file()
