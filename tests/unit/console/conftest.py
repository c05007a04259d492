from __future__ import annotations

import pytest

from tests.unit.console.fakes import Console, a_console


@pytest.fixture(scope="module")
def shared_console(tmp_path_factory: pytest.TempPathFactory) -> Console:
    # Building the FastAPI application costs ~1 s here: one per module, reset per test.
    return a_console(tmp_path_factory.mktemp("console"))


@pytest.fixture
def console(shared_console: Console) -> Console:
    return shared_console.reset()
