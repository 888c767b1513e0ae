"""Checkpoints and restart through the real binary under mpirun: a run stopped in any way and
restarted, on the same or another rank count, ends bitwise identical to a straight run."""

import os
import shutil
import signal
import subprocess
import time

import h5py
import numpy as np
import pytest

from conftest import (BINARY, MPI, MPIRUN, RESTARTS_CHECKED_UNDER_OPEN_MPI, assert_paraview_shows, assert_same_as_gold,
                      environment, run_tessera)

STOPPED_EARLY = 75
STEPS = 6000
CONFIG = """
[grid]
shape = {shape}
periodic = [true, false, true]
[boundary]
condition = ["dirichlet", "neumann", "dirichlet"]
value = 0.1
[model]
name = "heat"
initial = "gaussian"
diffusivity = 0.5
[time]
steps = {steps}
[output]
dir = "{out}"
every = 20
[checkpoint]
every = 500
keep = 3
"""


def write(tmp_path, name, steps=STEPS, shape=(40, 36, 30)):
    out = tmp_path / name
    config = tmp_path / f"{name}.toml"
    config.write_text(CONFIG.format(out=out, steps=steps, shape=list(shape)))
    return config, out


def start(config, ranks, *extra, env=None):
    """Starts tessera under mpirun in its own session; returns the Popen."""
    return subprocess.Popen(
        [MPIRUN, "-n", str(ranks), str(BINARY), "run", str(config), *extra],
        env=env or environment(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True)


def rank_pids(config):
    """The tessera rank processes of a run of `config` (not mpirun)."""
    listing = subprocess.run(["pgrep", "-f", f"^{BINARY} run {config}"], capture_output=True, text=True)
    return [int(p) for p in listing.stdout.split()]


def checkpoints(out):
    folder = out / "checkpoints"
    return sorted(folder.glob("checkpoint-*.hdf5")) if folder.exists() else []


def wait_for(predicate, timeout=60, job=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        if job is not None and job.poll() is not None:
            raise AssertionError(f"the job ended first: {job.communicate()[1][-2000:]}")
        time.sleep(0.05)
    raise AssertionError("timed out")


def step_of(path):
    return int(path.name[len("checkpoint-"):-len(".hdf5")])


def finish(job, timeout=120):
    """Waits for the job; its exit code and its whole log (information on stdout, then
    warnings and errors on stderr)."""
    try:
        out, err = job.communicate(timeout=timeout)
    finally:
        if job.poll() is None:
            os.killpg(job.pid, signal.SIGKILL)
            job.wait()
    return job.returncode, out + err


def kill_job(config, job, sig=signal.SIGKILL):
    for pid in rank_pids(config):
        os.kill(pid, sig)
    return finish(job, timeout=30)


@pytest.fixture(scope="module")
def gold(tmp_path_factory):
    """The straight run, on 2 ranks."""
    tmp_path = tmp_path_factory.mktemp("gold")
    config, out = write(tmp_path, "gold")
    result = run_tessera(["run", config], ranks=2, timeout=300)
    assert result.returncode == 0, result.stderr
    return out


def test_killed_twice_and_restarted_on_other_rank_counts_matches_the_straight_run(tmp_path, gold):
    config, out = write(tmp_path, "silver")
    job = start(config, 4)
    wait_for(lambda: len(checkpoints(out)) >= 1, job=job)
    code, _ = kill_job(config, job)
    assert code != 0
    first = max(step_of(p) for p in checkpoints(out))
    assert first < STEPS

    job = start(config, 3, "--restart", "auto")
    wait_for(lambda: max(step_of(p) for p in checkpoints(out)) > first, job=job)
    code, _ = kill_job(config, job)
    assert code != 0
    assert max(step_of(p) for p in checkpoints(out)) < STEPS, "the second run finished before it was killed"

    result = run_tessera(["run", config, "--restart", "auto"], ranks=1, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "restarting from" in result.stdout + result.stderr
    assert_same_as_gold(gold, out, STEPS)


@pytest.mark.parametrize("how", ["SIGTERM to the ranks", "SIGUSR1 to mpirun", "SIGINT to the ranks",
                                 "SIGTERM to mpirun"])
def test_a_signal_checkpoints_and_exits_75_and_the_restart_matches(tmp_path, gold, how):
    config, out = write(tmp_path, "signal")
    job = start(config, 3)
    wait_for(lambda: len(checkpoints(out)) >= 1, job=job)
    if "to mpirun" in how:
        os.kill(job.pid, signal.SIGUSR1 if "USR1" in how else signal.SIGTERM)
        code, err = finish(job, timeout=30)
    else:
        code, err = kill_job(config, job, signal.SIGTERM if "TERM" in how else signal.SIGINT)
    if how == "SIGTERM to mpirun" and MPI == "openmpi":
        # Open MPI's mpirun passes SIGTERM on, but exits 1 whatever the ranks return (the
        # README says so; the job scripts send SIGUSR1): the log says what happened. MPICH's
        # Hydra returns the ranks' 75.
        assert code == 1 and "(exit code 75)" in err, err[-2000:]
    elif MPI == "mpich" and "to mpirun" in how:
        # Every rank exits 75; MPICH's Hydra before 4.2.3 (Debian 12's) can still report 0 for
        # a job whose ranks all exit at once (pmodels/mpich#7057): the log says what happened.
        assert code in (STOPPED_EARLY, 0) and "(exit code 75)" in err, err[-2000:]
    else:
        assert code == STOPPED_EARLY, err[-2000:]
    stopped = max(step_of(p) for p in checkpoints(out))
    assert 0 < stopped < STEPS
    result = run_tessera(["run", config, "--restart", "auto"], ranks=2, timeout=300)
    assert result.returncode == 0, result.stderr
    assert f"continuing from step {stopped}" in result.stdout + result.stderr
    assert_same_as_gold(gold, out, STEPS)


def test_a_rank_killed_ends_every_rank_and_the_run_continues(tmp_path, gold):
    config, out = write(tmp_path, "onerank")
    job = start(config, 3)
    wait_for(lambda: len(checkpoints(out)) >= 1, job=job)
    os.kill(rank_pids(config)[-1], signal.SIGKILL)
    killed = time.monotonic()
    code, _ = finish(job, timeout=30)
    assert code != 0
    assert time.monotonic() - killed < 30
    assert rank_pids(config) == []
    if RESTARTS_CHECKED_UNDER_OPEN_MPI:
        return
    result = run_tessera(["run", config, "--restart", "auto"], ranks=4, timeout=300)
    assert result.returncode == 0, result.stderr
    assert_same_as_gold(gold, out, STEPS)


def test_a_crash_while_a_checkpoint_is_written_leaves_the_previous_one_in_use(tmp_path, gold):
    config, out = write(tmp_path, "crash")
    env = environment()
    env["TESSERA_FAULT"] = "checkpoint-before-commit@1000"
    job = start(config, 3, env=env)
    code, _ = finish(job, timeout=120)
    assert code != 0
    folder = out / "checkpoints"
    assert [p.name for p in checkpoints(out)] == ["checkpoint-0000000500.hdf5"]
    assert (folder / ".checkpoint-0000001000.hdf5.partial").exists()
    listing = run_tessera(["inspect", out])
    assert "would take: " + str(folder / "checkpoint-0000000500.hdf5") in listing.stdout
    if RESTARTS_CHECKED_UNDER_OPEN_MPI:
        return
    result = run_tessera(["run", config, "--restart", "auto"], ranks=3, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "continuing from step 500" in result.stdout + result.stderr
    assert not (folder / ".checkpoint-0000001000.hdf5.partial").exists()
    assert_same_as_gold(gold, out, STEPS)


def flip_a_byte_of_field_data(path):
    with h5py.File(path, "r") as f:
        offset = f["fields/temperature"].id.get_offset()
    with open(path, "r+b") as f:
        f.seek(offset + 1000)
        byte = f.read(1)
        f.seek(offset + 1000)
        f.write(bytes([byte[0] ^ 0x10]))


def test_truncated_and_corrupted_checkpoints_are_detected_and_skipped(tmp_path, gold):
    out = tmp_path / "damaged"
    shutil.copytree(gold, out)
    config = tmp_path / "damaged.toml"
    config.write_text(CONFIG.format(out=out, steps=STEPS, shape=[40, 36, 30]))
    folder = out / "checkpoints"
    newest, middle, oldest = (folder / f"checkpoint-{s:010d}.hdf5" for s in (6000, 5500, 5000))
    with open(newest, "r+b") as f:
        f.truncate(os.path.getsize(newest) // 2)
    flip_a_byte_of_field_data(middle)

    for damaged in (newest, middle):
        report = run_tessera(["inspect", damaged])
        assert report.returncode == 1, report.stdout
        assert "verifies: NO" in report.stdout or "cannot read" in report.stderr, report.stdout
    listing = run_tessera(["inspect", out])
    assert listing.returncode == 1 and "2 of the checkpoints" in listing.stderr, listing.stderr
    assert listing.stdout.count("DOES NOT VERIFY") == 2, listing.stdout
    assert f"would take: {oldest}" in listing.stdout

    explicit = run_tessera(["run", config, "--restart", middle], ranks=3, timeout=60)
    assert explicit.returncode != 0
    assert f"cannot restart from {middle}" in explicit.stderr

    result = run_tessera(["run", config, "--restart", "auto"], ranks=3, timeout=300)
    assert result.returncode == 0, result.stderr
    log = result.stdout + result.stderr
    assert f"skipping checkpoint {newest}" in log and f"skipping checkpoint {middle}" in log
    assert "continuing from step 5000" in log
    assert_same_as_gold(gold, out, STEPS)


def test_the_wall_clock_limit_stops_the_run_in_time_and_it_continues(tmp_path):
    # A larger problem than the other tests' so that the run outlasts its 2 s limit with room
    # to spare: 4.2e9 cell updates, 6 s at the best 2-rank rate seen here (6.9e8 per second;
    # 1e9 updates once finished inside the limit). Frames are fewer to keep the files small.
    steps, shape, fewer_frames = 16000, (64, 64, 64), ["--set", "output.every=400"]
    config, out = write(tmp_path, "walltime", steps=steps, shape=shape)
    started = time.monotonic()
    result = run_tessera(["run", config, "--walltime", "00:00:02", *fewer_frames], ranks=2, timeout=120)
    elapsed = time.monotonic() - started
    log = result.stdout + result.stderr
    assert result.returncode == STOPPED_EARLY, log[-3000:]
    assert "wall-clock limit" in log
    # Stopped before the limit, with the launcher's start-up and shut-down on top.
    assert elapsed < 2 + 5, log[-3000:]
    assert max(step_of(p) for p in checkpoints(out)) < steps
    if RESTARTS_CHECKED_UNDER_OPEN_MPI:
        return
    gold_config, gold = write(tmp_path, "walltime-gold", steps=steps, shape=shape)
    straight = run_tessera(["run", gold_config, *fewer_frames], ranks=2, timeout=300)
    assert straight.returncode == 0, straight.stderr
    resumed = run_tessera(["run", config, "--restart", "auto", *fewer_frames], ranks=3, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert_same_as_gold(gold, out, steps=steps)


def copy_of_gold(tmp_path, gold, name, shape=(40, 36, 30)):
    out = tmp_path / name
    shutil.copytree(gold, out)
    config = tmp_path / f"{name}.toml"
    config.write_text(CONFIG.format(out=out, steps=STEPS, shape=list(shape)))
    return config, out


def contents(out):
    """Every file under `out` (but the lock file) and its bytes."""
    return {p.relative_to(out): p.read_bytes() for p in sorted(out.rglob("*"))
            if p.is_file() and p.name != ".tessera.lock"}


def take_fields_of(path, other):
    with h5py.File(path, "r+") as f, h5py.File(other, "r") as g:
        del f["fields"]
        g.copy("fields", f)


# Edits a careless or hostile hand could make: each must fail the metadata checksum.
EDITS = {
    "step 6000 -> 6500": lambda path, out: set_attribute(path, "step", 6500),
    "step -5": lambda path, out: set_attribute(path, "step", -5),
    "results_frames -1": lambda path, out: set_attribute(path, "results_frames", -1),
    "dt 0": lambda path, out: set_attribute(path, "dt", 0.0),
    "time": lambda path, out: set_attribute(path, "time", 1.0),
    "output_every": lambda path, out: set_attribute(path, "output_every", 10),
    "fields of step 5500": lambda path, out: take_fields_of(path, out / "checkpoints" / "checkpoint-0000005500.hdf5"),
}


def set_attribute(path, name, value):
    with h5py.File(path, "r+") as f:
        f.attrs[name] = value


@pytest.mark.parametrize("edit", sorted(EDITS))
def test_an_edited_checkpoint_fails_its_metadata_checksum(tmp_path, gold, edit):
    config, out = copy_of_gold(tmp_path, gold, "edited")
    newest = out / "checkpoints" / f"checkpoint-{STEPS:010d}.hdf5"
    EDITS[edit](newest, out)
    before = contents(out)
    listing = run_tessera(["inspect", out])
    assert listing.returncode == 1, listing.stderr
    assert "DOES NOT VERIFY (its metadata does not match its checksum" in listing.stdout, listing.stdout
    result = run_tessera(["run", config, "--restart", newest], ranks=2, timeout=60)
    assert result.returncode == 1, result.stderr
    assert f"cannot restart from {newest}" in result.stderr and "does not match its checksum" in result.stderr
    assert contents(out) == before


def test_restart_auto_skips_a_checkpoint_with_another_steps_fields_and_matches_the_straight_run(tmp_path, gold):
    config, out = copy_of_gold(tmp_path, gold, "swapped")
    newest = out / "checkpoints" / f"checkpoint-{STEPS:010d}.hdf5"
    take_fields_of(newest, out / "checkpoints" / "checkpoint-0000005500.hdf5")
    result = run_tessera(["run", config, "--restart", "auto"], ranks=3, timeout=300)
    assert result.returncode == 0, result.stderr
    assert f"skipping checkpoint {newest}" in result.stdout + result.stderr
    # Information goes to stdout; the skipped checkpoint is a warning, on stderr.
    assert f"skipping checkpoint {newest}" in result.stderr
    assert "restarting from" in result.stdout and "checkpoint-0000005500.hdf5" in result.stdout
    assert_same_as_gold(gold, out, STEPS)


def test_a_checkpoint_named_for_another_step_is_refused_and_auto_takes_the_next(tmp_path, gold):
    config, out = copy_of_gold(tmp_path, gold, "renamed")
    folder = out / "checkpoints"
    shutil.copy(folder / "checkpoint-0000005500.hdf5", folder / f"checkpoint-{STEPS:010d}.hdf5")
    named = folder / f"checkpoint-{STEPS:010d}.hdf5"
    result = run_tessera(["run", config, "--restart", named], ranks=2, timeout=60)
    assert result.returncode == 1
    assert f"its name says step {STEPS} but it holds step 5500" in result.stderr, result.stderr
    result = run_tessera(["run", config, "--restart", "auto"], ranks=2, timeout=300)
    assert result.returncode == 0, result.stderr
    assert f"skipping checkpoint {named}" in result.stdout + result.stderr
    assert_same_as_gold(gold, out, STEPS)


def test_a_restart_with_another_output_interval_is_refused_and_loses_nothing(tmp_path, gold):
    config, out = copy_of_gold(tmp_path, gold, "every")
    before = contents(out)
    for every in [10, 1, 8]:
        result = run_tessera(["run", config, "--restart", "auto", "--set", f"output.every={every}"], ranks=2,
                             timeout=60)
        assert result.returncode == 1, result.stderr
        assert "output.every" in result.stderr and f"every 20 steps, this config says every {every}" in \
            result.stderr, result.stderr
        assert contents(out) == before


def test_results_of_another_run_are_not_continued(tmp_path, gold):
    """A results file whose frames are not the checkpoint's (here: another output interval
    written by hand) is refused before anything in it changes."""
    config, out = copy_of_gold(tmp_path, gold, "foreign")
    with h5py.File(out / "results.hdf5", "r+") as f:
        f["dimensions/time"][3] = f["dimensions/time"][3] * 2
    before = contents(out)
    result = run_tessera(["run", config, "--restart", "auto"], ranks=2, timeout=60)
    assert result.returncode == 1, result.stderr
    assert "does not hold the frames the checkpoint expects: frame 3" in result.stderr, result.stderr
    assert contents(out) == before


def test_inspect_refuses_a_field_claiming_another_grid_than_its_metadata(tmp_path, gold):
    damaged = tmp_path / f"checkpoint-{STEPS:010d}.hdf5"
    shutil.copy(gold / "checkpoints" / damaged.name, damaged)
    with h5py.File(damaged, "r+") as f:
        checksum = f["fields/temperature"].attrs["tessera_checksum"]
        del f["fields/temperature"]
        # Chunked, so HDF5 allocates nothing: 2^60 cells exist only in the dimensions.
        huge = f["fields"].create_dataset("temperature", shape=(1 << 20,) * 3, dtype="f8", chunks=(1, 1, 64))
        huge.attrs["tessera_checksum"] = checksum
    report = run_tessera(["inspect", damaged], timeout=60)
    assert report.returncode == 1, report.stderr  # no signal, and not 0
    assert "verifies: NO: field temperature is a grid of [1048576, 1048576, 1048576] cells, the checkpoint's is " \
        "[40, 36, 30]: damaged" in report.stdout, report.stdout


def test_a_checkpoint_of_another_grid_is_refused_naming_both_grids(tmp_path, gold):
    out = tmp_path / "regrid"
    shutil.copytree(gold, out)
    config = tmp_path / "regrid.toml"
    config.write_text(CONFIG.format(out=out, steps=STEPS, shape=[40, 36, 31]))
    newest = out / "checkpoints" / f"checkpoint-{STEPS:010d}.hdf5"
    result = run_tessera(["run", config, "--restart", newest], ranks=3, timeout=60)
    assert result.returncode == 1, result.stderr
    assert "is a grid of [40, 36, 30] cells, this run's grid is [40, 36, 31]" in result.stderr, result.stderr


def test_a_restart_with_other_physics_or_time_step_is_refused(tmp_path, gold):
    out = tmp_path / "other"
    shutil.copytree(gold, out)
    config = tmp_path / "other.toml"
    config.write_text(CONFIG.format(out=out, steps=STEPS, shape=[40, 36, 30]))
    before = (out / "results.hdf5").read_bytes()
    for override, fragment in [("model.diffusivity=0.25", "different physics"), ("time.cfl=0.5", "dt =")]:
        result = run_tessera(["run", config, "--restart", "auto", "--set", override], ranks=2, timeout=60)
        assert result.returncode == 1
        assert fragment in result.stderr
    assert (out / "results.hdf5").read_bytes() == before


def test_restart_auto_without_a_checkpoint_keeps_the_earlier_results_aside(tmp_path, gold):
    config, out = copy_of_gold(tmp_path, gold, "aside")
    shutil.rmtree(out / "checkpoints")
    earlier = (out / "results.hdf5").read_bytes()
    result = run_tessera(["run", config, "--restart", "auto"], ranks=2, timeout=300)
    assert result.returncode == 0, result.stderr
    kept = sorted(out.glob("results-*.hdf5"))
    assert len(kept) == 1 and f"it is kept as {kept[0]}" in result.stdout + result.stderr
    assert kept[0].read_bytes() == earlier
    # Its ParaView description moved with it and shows it, not the new results.
    assert_paraview_shows(kept[0])
    assert_same_as_gold(gold, out, STEPS)


def test_a_second_run_on_a_live_folder_is_refused_naming_the_first(tmp_path, gold):
    config, out = write(tmp_path, "live", steps=10**7)
    job = start(config, 2)
    wait_for(lambda: len(checkpoints(out)) >= 1, job=job)
    pid = [int(p) for p in subprocess.run(["pgrep", "-f", f"^{BINARY} run {config}"], capture_output=True,
                                          text=True).stdout.split()]
    for extra in [["--overwrite"], ["--restart", "auto"], []]:
        started = time.monotonic()
        second = run_tessera(["run", config, *extra], ranks=3, timeout=60)
        assert second.returncode == 1, second.stderr
        assert time.monotonic() - started < 30
        assert f"the output folder {out} is in use by another run (host " in second.stderr, second.stderr
        assert any(f"pid {p}," in second.stderr for p in pid), second.stderr
    assert job.poll() is None, "the first run was disturbed"
    # Killed, it leaves the lock file but no lock: the next run takes over and says so.
    code, _ = kill_job(config, job)
    assert code != 0
    assert "pid" in (out / ".tessera.lock").read_text()
    result = run_tessera(["run", config, "--overwrite", "--set", f"time.steps={STEPS}"], ranks=3, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "ended without releasing it; taking it over" in result.stdout + result.stderr
    assert_same_as_gold(gold, out, STEPS)
    assert (out / ".tessera.lock").read_text() == "", "a clean end empties the lock file"


def test_restart_auto_without_checkpoints_starts_from_the_beginning(tmp_path, gold):
    config, out = write(tmp_path, "fresh")
    result = run_tessera(["run", config, "--restart", "auto"], ranks=2, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "starting from the beginning" in result.stdout + result.stderr
    assert_same_as_gold(gold, out, STEPS)


def test_keep_holds_the_newest_checkpoints_only(gold):
    assert [step_of(p) for p in checkpoints(gold)] == [5000, 5500, 6000]
    with h5py.File(checkpoints(gold)[-1], "r") as f:
        assert f["fields/temperature"].dtype == np.float64
        assert f["fields/temperature"].shape == (40, 36, 30)
        assert "tessera_checksum" in f["fields/temperature"].attrs
        assert f.attrs["results_frames"] == STEPS // 20 + 1
        # Fixed-length UTF-8 (kept out of HDF5's unchecksummed global heap): bytes in h5py.
        assert f.attrs["model"].decode() == "heat"
        assert "name = \"heat\"" in f.attrs["tessera_config"].decode()


@pytest.mark.skipif(os.geteuid() != 0, reason="mounting a tmpfs needs root")
def test_a_full_disk_during_a_checkpoint_fails_clearly_and_keeps_earlier_checkpoints(tmp_path):
    mount = tmp_path / "small"
    mount.mkdir()
    # Room for the results and about two checkpoints of a 32^3 state (270 kB each).
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=700k", "tmpfs", str(mount)]).returncode != 0:
        pytest.skip("cannot mount a tmpfs here")
    try:
        config = tmp_path / "full.toml"
        config.write_text(
            "[grid]\nshape = [32, 32, 32]\n[model]\nname = \"heat\"\ninitial = \"gaussian\"\n[time]\nsteps = 40\n"
            f"[output]\ndir = \"{mount / 'out'}\"\nevery = 40\n[checkpoint]\nevery = 10\nkeep = 5\n")
        started = time.monotonic()
        result = run_tessera(["run", config], ranks=3, timeout=60)
        assert result.returncode != 0
        assert time.monotonic() - started < 30
        # Either MPI-IO reports the full disk, or it loses a short write without a word (Open
        # MPI 4.1's OMPIO) and the read-back before the commit finds it.
        assert "No space left on device" in result.stderr or "is the disk full" in result.stderr, result.stderr
        assert "tessera: error:" in result.stderr
        kept = checkpoints(mount / "out")
        assert kept, "the first checkpoints fit and must be there"
        for path in kept:
            report = run_tessera(["inspect", path])
            assert "verifies: yes" in report.stdout
    finally:
        subprocess.run(["umount", str(mount)])
