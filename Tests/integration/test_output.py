"""Results output through the real binary: frames written while the simulation steps on give
the same bytes as frames written between steps, on any rank count; a run killed in the middle
of a frame leaves a file h5py opens and restarts to the straight run; a full disk during a frame
ends every rank with one error; MPI-IO hints and HDF5 alignment reach the file."""

import os
import subprocess
import time

import h5py
import pytest

from conftest import BINARY, MPIRUN, assert_same_as_gold, datasets, environment, run_tessera, write_config

EULER = """
[grid]
shape = [36, 28]
periodic = false
[boundary]
condition = "reflecting"
[model]
name = "euler"
initial = "quadrants"
[time]
steps = 24
[output]
dir = "{out}"
every = 2
{output}
"""


def results(path):
    found = datasets(path / "results.hdf5")
    with h5py.File(path / "results.hdf5", "r") as f:
        found["time"] = f["dimensions/time"][...]
    return found


@pytest.mark.parametrize("ranks", [1, 2, 3, 4])
def test_overlapped_output_gives_the_bytes_of_output_between_steps_on_any_rank_count(tmp_path, ranks):
    """Euler in 2-D: a scalar and a vector field (momentum's components interleaved per cell)
    and conserved totals."""
    runs = {}
    for overlap in ("true", "false"):
        out = tmp_path / overlap
        config = tmp_path / f"{overlap}.toml"
        config.write_text(EULER.format(out=out, output=f"overlap = {overlap}"))
        result = run_tessera(["run", config], ranks=ranks)
        assert result.returncode == 0, result.stderr
        mode = "overlapped" if overlap == "true" else "between steps"
        assert f"output ({mode}): 13 frames" in result.stdout + result.stderr
        runs[overlap] = results(out)
    reference = tmp_path / "one"
    config = tmp_path / "one.toml"
    config.write_text(EULER.format(out=reference, output="overlap = false"))
    assert run_tessera(["run", config], ranks=1).returncode == 0
    expected = results(reference)
    for got in runs.values():
        assert sorted(got) == sorted(expected)
        for key in expected:
            assert got[key].tobytes() == expected[key].tobytes(), key
    assert expected["t1_fields/momentum"].shape == (1, 13, 36, 28, 2)


def test_flushing_only_at_checkpoints_writes_the_same_file(tmp_path):
    out = {}
    for flush in ("frame", "checkpoint"):
        out[flush] = tmp_path / flush
        config = tmp_path / f"{flush}.toml"
        config.write_text(EULER.format(out=out[flush], output=f'flush = "{flush}"\n[checkpoint]\nevery = 10'))
        result = run_tessera(["run", config], ranks=3)
        assert result.returncode == 0, result.stderr
    a, b = results(out["frame"]), results(out["checkpoint"])
    assert all(a[key].tobytes() == b[key].tobytes() for key in a)


HEAT = """
[grid]
shape = [40, 36, 30]
periodic = [true, false, true]
[boundary]
condition = ["dirichlet", "neumann", "dirichlet"]
value = 0.1
[model]
name = "heat"
initial = "gaussian"
diffusivity = 0.5
[time]
steps = 400
[output]
dir = "{out}"
every = 5
[checkpoint]
every = 100
"""


def test_a_run_killed_while_it_writes_a_frame_leaves_a_readable_file_and_restarts_bit_for_bit(tmp_path):
    gold = tmp_path / "gold"
    config = tmp_path / "gold.toml"
    config.write_text(HEAT.format(out=gold))
    assert run_tessera(["run", config], ranks=2, timeout=300).returncode == 0
    out = tmp_path / "killed"
    config = tmp_path / "killed.toml"
    config.write_text(HEAT.format(out=out))
    env = environment()
    # Frame 50 is the state after step 250: after the checkpoints of steps 100 and 200. Every
    # rank dies after writing its block of that frame, before the file is flushed.
    env["TESSERA_FAULT"] = "frame-write@50"
    result = subprocess.run(
        [MPIRUN, "-n", "3", str(BINARY), "run", str(config)], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    with h5py.File(out / "results.hdf5", "r") as f:
        frames = f["t0_fields/temperature"].shape[1]
        assert f["dimensions/time"].shape[0] >= 200 // 5 + 1
        assert frames >= 200 // 5 + 1
    restarted = run_tessera(["run", config, "--restart", "auto"], ranks=4, timeout=300)
    assert restarted.returncode == 0, restarted.stderr
    assert "continuing from step 200" in restarted.stdout + restarted.stderr
    assert_same_as_gold(gold, out, 400)


@pytest.mark.skipif(os.geteuid() != 0, reason="mounting a tmpfs needs root")
def test_a_full_disk_during_a_frame_ends_every_rank_with_one_clear_error(tmp_path):
    mount = tmp_path / "small"
    mount.mkdir()
    # Room for the first few frames of 32^3 (131 kB each) and nothing more.
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=600k", "tmpfs", str(mount)]).returncode != 0:
        pytest.skip("cannot mount a tmpfs here")
    try:
        config = write_config(tmp_path / "full.toml", [32, 32, 32], mount / "out", steps=40, every=1,
                              extra_model='initial = "gaussian"')
        started = time.monotonic()
        result = run_tessera(["run", config], ranks=3, timeout=60)
        assert result.returncode != 0
        assert time.monotonic() - started < 30
        assert "No space left on device" in result.stderr, result.stderr
        assert "tessera: error:" in result.stderr
        with h5py.File(mount / "out" / "results.hdf5", "r") as f:
            assert f["t0_fields/temperature"].shape[1] >= 1
    finally:
        subprocess.run(["umount", str(mount)])


ALIGNED = """
[grid]
shape = [64, 48, 40]
[model]
name = "heat"
initial = "gaussian"
[time]
steps = 4
[output]
dir = "{out}"
every = 2
{output}
[checkpoint]
every = 2
{checkpoint}
"""


def test_alignment_and_mpi_io_hints_reach_the_files(tmp_path):
    out = tmp_path / "aligned"
    config = tmp_path / "a.toml"
    config.write_text(ALIGNED.format(
        out=out,
        output='alignment = "1 MiB"\nalignment_threshold = "4 KiB"\n'
               'hints = { romio_cb_write = "enable", cb_nodes = 2, striping_unit = 1048576 }',
        checkpoint='alignment = "1 MiB"\nhints = { romio_cb_write = "enable" }'))
    result = run_tessera(["run", config], ranks=2)
    assert result.returncode == 0, result.stderr
    with h5py.File(out / "results.hdf5", "r") as f:
        dataset = f["t0_fields/temperature"]
        assert dataset.chunks == (1, 1, 64, 48, 40)
        offsets = [dataset.id.get_chunk_info(i).byte_offset for i in range(dataset.id.get_num_chunks())]
    assert len(offsets) == 3 and all(offset % (1 << 20) == 0 for offset in offsets), offsets
    with h5py.File(out / "checkpoints" / "checkpoint-0000000004.hdf5", "r") as f:
        assert f["fields/temperature"].id.get_offset() % (1 << 20) == 0
    # Without alignment, the chunks lie where the file ends.
    plain = tmp_path / "plain"
    config = tmp_path / "p.toml"
    config.write_text(ALIGNED.format(out=plain, output="", checkpoint=""))
    assert run_tessera(["run", config], ranks=2).returncode == 0
    with h5py.File(plain / "results.hdf5", "r") as f:
        dataset = f["t0_fields/temperature"]
        assert any(dataset.id.get_chunk_info(i).byte_offset % (1 << 20) for i in range(3))


def test_bad_output_settings_are_config_errors(tmp_path):
    for line, message in [
        ("flush = \"sometimes\"", '[output.flush] must be one of "frame", "checkpoint"'),
        ("overlap = 1", '[output.overlap] must be true, false or "auto"'),
        ("hints = 4", "[output.hints] must be a table of MPI-IO hints"),
        ("hints = { cb_nodes = 1.5 }", "[output.hints.cb_nodes] must be text or an integer"),
        ("alignment = \"a lot\"", "[output.alignment] must be a size"),
    ]:
        config = write_config(tmp_path / "bad.toml", [8, 8], tmp_path / "out", steps=2, every=1)
        config.write_text(config.read_text().replace("every = 1\n", f"every = 1\n{line}\n"))
        result = run_tessera(["validate", config])
        assert result.returncode == 1 and message in result.stderr, (line, result.stderr)


def test_plan_states_what_each_rank_writes_its_buffers_and_the_bandwidth_frames_need(tmp_path):
    # 64×48×40 heat on 4 ranks (2×2×1, blocks of 32×24×40): 30720 cells, 122.9 kB per frame each.
    config = write_config(tmp_path / "c.toml", [64, 48, 40], tmp_path / "out", steps=100, every=10)
    result = run_tessera(["plan", config, "--ranks", "4", "--step-rate", "1e8"])
    assert result.returncode == 0, result.stderr
    lines = dict(line.split(":", 1) for line in result.stdout.splitlines()[1:])
    assert lines["results frame"].strip() == "491.5 kB (float32); 11 frames, 5.4 MB in all"
    assert lines["written per rank"].strip() == "122.9 kB per frame"
    assert lines["frame buffers"].strip().startswith("245.8 kB per rank (two frames")
    # A step takes 30720 / 1e8 s; a frame every 10 steps needs 491520 B / (10 × 3.072e-4 s).
    assert lines["step time"].strip().startswith("0.000307 s at 1e+08 cell updates/s per rank (as given)")
    assert lines["frame bandwidth"].strip().startswith("a frame every 10 steps needs 0.16 GB/s in all; every step 1.6 GB/s")
    between = run_tessera(["plan", config, "--ranks", "4", "--set", "output.overlap=false"])
    assert "(one frame, written between steps)" in between.stdout
    assert "cell updates/s per rank (the model's update timed here" in between.stdout
