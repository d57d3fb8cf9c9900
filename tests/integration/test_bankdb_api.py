"""The API served from the bank database (embedded DuckDB and PostgreSQL) scores the clients exactly as from the
pipeline's files, on the tiny trained project (`explained_project`)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from app.api.service import ScoringService
from tests.unit.dataset.test_bankdb import as_role


# ---------------------------------------------------------------------------------------------------------
# The API reading its clients from the database
# ---------------------------------------------------------------------------------------------------------
def served_dirs(project: Path) -> tuple[Path, Path]:
    return project / "models" / "champion", project / "models" / "explain"


def assert_same_scores(got: ScoringService, expected: ScoringService) -> None:
    a, b = got.table.sort_index(), expected.table.sort_index()
    assert a.index.equals(b.index) and len(a) == 350
    np.testing.assert_allclose(a["PROBABILITY"], b["PROBABILITY"], rtol=1e-9)


def test_the_api_serves_the_clients_of_the_embedded_database_as_those_of_the_files(explained_project, embedded,
                                                                                  csv_features):
    from_files = ScoringService.load(*served_dirs(explained_project), csv_features["project"] / "data")
    from_db = ScoringService.from_database(*served_dirs(explained_project), embedded.url, embedded.schema)
    assert_same_scores(from_db, from_files)
    client = int(from_files.table.index[3])
    assert from_db.scoring.stored_application(client) == from_files.scoring.stored_application(client)


@pytest.mark.postgres
def test_the_api_reads_postgres_as_the_reader_and_refuses_a_role_that_may_write(explained_project, loaded,
                                                                                embedded):
    with pytest.raises(PermissionError, match="read-only role"):
        ScoringService.from_database(*served_dirs(explained_project), loaded.url, loaded.schema)
    reader = ScoringService.from_database(*served_dirs(explained_project), as_role(loaded.url, loaded.reader_role),
                                          loaded.schema)
    assert_same_scores(reader, ScoringService.from_database(*served_dirs(explained_project), embedded.url,
                                                            embedded.schema))


