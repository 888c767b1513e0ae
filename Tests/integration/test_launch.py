"""Launching and sizing: the layout rank 0 reports at start under each launcher, and
`tessera plan`, which sizes a job before it is submitted."""

import re
import socket

import pytest

from conftest import LAUNCHED_BY, run_tessera, write_config


def blocks(log):
    """The per-rank lines of the start-up layout: rank -> (host, [(lower, upper) per axis])."""
    found = {}
    for rank, host, ranges in re.findall(r"rank (\d+) on (\S+): cells \[([^\]]*)\]", log):
        found[int(rank)] = (host, [tuple(map(int, r.split("..<"))) for r in ranges.split(", ")])
    return found


@pytest.mark.parametrize("ranks", [1, 3, 4])
def test_rank_zero_reports_the_layout_under_the_launcher(tmp_path, ranks):
    shape = [12, 10, 7]
    config = write_config(tmp_path / "c.toml", shape, tmp_path / "out", steps=2)
    result = run_tessera(["run", config], ranks=ranks)
    log = result.stdout + result.stderr
    assert result.returncode == 0, log
    noun = "rank" if ranks == 1 else "ranks"
    assert f"{LAUNCHED_BY}: {ranks} {noun} on 1 node" in log
    found = blocks(log)
    assert sorted(found) == list(range(ranks))
    # The blocks tile the grid exactly: their cells add up and none overlaps another.
    cells = set()
    for host, ranges in found.values():
        assert host == socket.gethostname()
        block = {(i, j, k) for i in range(*ranges[0]) for j in range(*ranges[1]) for k in range(*ranges[2])}
        assert not cells & block
        cells |= block
    assert len(cells) == 12 * 10 * 7


def test_a_plain_process_says_it_has_no_launcher(tmp_path):
    config = write_config(tmp_path / "c.toml", [8, 6], tmp_path / "out", steps=2)
    result = run_tessera(["run", config])
    assert result.returncode == 0, result.stderr
    assert "started as a single process: 1 rank on 1 node" in result.stdout + result.stderr
    assert blocks(result.stdout + result.stderr) == {0: (socket.gethostname(), [(0, 8), (0, 6)])}


def test_plan_sizes_a_job_without_running_it(tmp_path):
    # Worked by hand: 12×10 cells over 2 ranks, walls all round, one field, one ghost cell.
    # Each rank owns 6×10 cells (8×12 with ghosts), sends its neighbour one row of 10, and
    # holds two frame buffers of its 60 cells in float32.
    config = write_config(tmp_path / "c.toml", [12, 10], tmp_path / "out", steps=20, every=5,
                          periodic=[False, False])
    result = run_tessera(["plan", config, "--ranks", "2"])
    assert result.returncode == 0, result.stderr
    lines = dict(line.split(":", 1) for line in result.stdout.splitlines()[1:])
    assert result.stdout.startswith("process grid 2×1 for 2 ranks; heat on 12×10 cells, 1 field, 1 ghost cell")
    assert lines["cells per rank"].strip() == "60"
    assert lines["halo bytes per step"].strip() == "80 B sent per rank"
    assert lines["memory per rank"].strip().startswith(f"{(2 * 8 * 12 * 8 + 2 * 80 + 2 * 60 * 4) / 1000:.1f} kB")
    assert lines["written per rank"].strip() == "240 B per frame"
    assert lines["results frame"].strip() == "480 B (float32); 5 frames, 2.4 kB in all"
    assert lines["checkpoint"].strip() == "960 B (float64); keep 2: 1.9 kB on disk"
    assert not (tmp_path / "out").exists()


def test_plan_rejects_what_cannot_run(tmp_path):
    config = write_config(tmp_path / "c.toml", [4, 4], tmp_path / "out", steps=2)
    for ranks, message in [(0, "--ranks must be at least 1"), (64, "cannot be split over 64 ranks with blocks at least 1 cell wide")]:
        result = run_tessera(["plan", config, "--ranks", str(ranks)])
        assert result.returncode == 1
        assert message in result.stderr, result.stderr
