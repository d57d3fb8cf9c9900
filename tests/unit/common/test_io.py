"""File helpers: a folder written with `atomic_directory` appears whole or not at all."""

from __future__ import annotations

import pytest

from credit_scoring.common import paths
from credit_scoring.common.io import atomic_directory, write_json


def test_a_finished_folder_replaces_the_old_one_and_leaves_no_scratch(tmp_path):
    target = tmp_path / "out"
    target.mkdir()
    (target / "old.txt").write_text("old")
    with atomic_directory(target) as staged:
        (staged / "new.txt").write_text("new")
        assert not (target / "new.txt").exists()  # nothing visible before the block ends
    assert sorted(p.name for p in target.iterdir()) == ["new.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_an_error_leaves_the_old_folder_as_it_was(tmp_path):
    target = tmp_path / "out"
    target.mkdir()
    (target / "old.txt").write_text("old")
    with pytest.raises(RuntimeError, match="half way"), atomic_directory(target) as staged:
        (staged / "new.txt").write_text("new")
        raise RuntimeError("half way")
    assert sorted(p.name for p in target.iterdir()) == ["old.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_a_new_folder_is_created_with_its_parents(tmp_path):
    target = tmp_path / "a" / "b"
    with atomic_directory(target) as staged:
        write_json(staged / "x.json", {"k": 1})
    assert (target / "x.json").read_text() == '{\n  "k": 1\n}\n'


def test_paths_are_relative_to_the_project_root():
    assert not paths.PREPARED.is_absolute()
    assert paths.metrics("tune") == paths.METRICS / "tune.json"
    assert paths.table("thresholds").name == "thresholds.csv" and paths.figure("roc").suffix == ".png"
