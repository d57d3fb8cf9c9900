"""The synthetic generator against schema.json and fidelity.json: layout, marginals, point masses, joint rules,
missing blocks, relations, format, determinism, and where the signal sits."""

from __future__ import annotations

import hashlib

import pytest

from credit_scoring.dataset.synthetic.generate import generate


def _digests(folder):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def test_same_seed_gives_byte_identical_files(tmp_path):
    for run in ("a", "b", "c"):
        seed = 3 if run != "c" else 4
        generate(600, 100, seed=seed, out_dir=tmp_path / run, truth_file=tmp_path / run / "truth.csv",
                 log=lambda *_: None)
    assert _digests(tmp_path / "a") == _digests(tmp_path / "b")
    assert _digests(tmp_path / "a") != _digests(tmp_path / "c")




def test_too_few_clients_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="at least 100"):
        generate(10, 1, seed=1, out_dir=tmp_path / "csv", truth_file=tmp_path / "t.csv")
    assert not (tmp_path / "csv").exists()


def test_a_rerun_replaces_the_folder_and_a_folder_with_other_files_is_refused(tmp_path):
    """The output folder is replaced as a whole: a second run leaves only its files; a folder holding anything
    else (say a Kaggle download) is refused before anything is written, and the truth file is left alone."""
    quiet = {"log": lambda *_: None}
    generate(300, 50, seed=1, out_dir=tmp_path / "csv", truth_file=tmp_path / "csv" / "truth.csv", **quiet)
    first = _digests(tmp_path / "csv")
    generate(300, 50, seed=2, out_dir=tmp_path / "csv", truth_file=tmp_path / "csv" / "truth.csv", **quiet)
    assert set(_digests(tmp_path / "csv")) == set(first) and _digests(tmp_path / "csv") != first
    (tmp_path / "csv" / "notes.txt").write_text("mine")
    (tmp_path / "truth.csv").write_text("old truth")
    with pytest.raises(ValueError, match="notes.txt"):
        generate(300, 50, seed=3, out_dir=tmp_path / "csv", truth_file=tmp_path / "truth.csv", **quiet)
    assert (tmp_path / "csv" / "notes.txt").read_text() == "mine"
    assert (tmp_path / "truth.csv").read_text() == "old truth"


















