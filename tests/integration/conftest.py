"""Fixtures the integration tests share with the unit tests of the same domain (pytest finds them here)."""

from tests.unit.dataset.test_bankdb import csv_features, data, embedded, loaded, server  # noqa: F401
from tests.unit.monitor.test_monitor import work_dir  # noqa: F401
