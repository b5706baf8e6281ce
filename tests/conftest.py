"""Fixtures shared by the test files."""

import pytest
import torch


@pytest.fixture(autouse=True)
def one_thread():
    """Run each test with one torch thread, restoring the setting afterwards.

    Tiny models run thousands of small ops; two OpenMP threads on a shared
    2-core machine spend more time synchronising than computing.
    """
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
