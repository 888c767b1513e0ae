"""After an exchange, every ghost cell holds its owner's value: faces, edges, corners and
periodic wrap, on uneven shapes in 1, 2 and 3 dimensions, over real MPI at 1 to 4 ranks."""

import re

import pytest

from conftest import run_tessera

CASES = [
    ("11", "true", 1),
    ("11", "false", 2),
    ("7,5", "true,false", 1),
    ("9,7", "true,true", 2),
    ("7,5,3", "true,false,true", 1),
    ("9,8,7", "true,true,true", 1),
    ("6,7,5", "false,false,false", 1),
]


@pytest.mark.parametrize("ranks", [1, 2, 3, 4])
@pytest.mark.parametrize("shape,periodic,ghost", CASES)
def test_every_ghost_holds_its_owners_value(ranks, shape, periodic, ghost):
    result = run_tessera(
        ["check-halo", "--shape", shape, "--periodic", periodic, "--ghost", ghost, "--fields", 3],
        ranks=ranks, timeout=60)
    assert result.returncode == 0, result.stderr
    summary = re.search(r"(\d+) messages, (\d+) ghost cells, (\d+) wrong", result.stdout)
    assert summary, result.stdout
    messages, ghosts, wrong = map(int, summary.groups())
    assert wrong == 0
    assert ghosts > 0
    if ranks > 1 or "true" in periodic:
        assert messages > 0


def test_corner_messages_flow_on_a_full_3d_process_grid():
    # 8 ranks as 2x2x2, every axis periodic: each rank exchanges with all 26 directions.
    result = run_tessera(["check-halo", "--shape", "8,8,8", "--ghost", 1], ranks=8, timeout=90)
    assert result.returncode == 0, result.stderr
    assert "process grid [2, 2, 2]" in result.stdout
    assert "208 messages" in result.stdout
    assert " 0 wrong" in result.stdout
