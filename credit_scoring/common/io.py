"""Small file helpers shared by stages and services: files and folders that readers never see half-written."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def write_json(path: str | Path, data: dict) -> None:
    """Write then rename, so `dvc metrics show` (or a service) never reads a truncated file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    os.replace(tmp, path)


@contextmanager
def atomic_directory(target: str | Path) -> Iterator[Path]:
    """Write a folder in one step: yields an empty folder beside ``target`` to fill; when the block ends
    without error, that folder takes ``target``'s place by renames (what was there is removed), so a reader sees
    the old folder or the new one, never a mix. On an error ``target`` is left as it was. The scratch space sits
    in ``target``'s parent (same file system, so the renames are atomic) and is always removed."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        staged = scratch / target.name
        staged.mkdir()
        yield staged
        previous = scratch / "previous"
        if target.exists():
            target.rename(previous)
        try:
            staged.rename(target)
        except OSError:
            if previous.exists():
                previous.rename(target)
            raise
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
