"""Bad input gives one clear message and a non-zero exit on every rank within seconds, and
destroys no earlier results; a rank that dies takes the job down instead of hanging it."""

import os
import signal
import subprocess
import time

import h5py
import pytest

from conftest import BINARY, MPI, MPIRUN, environment, run_tessera, write_config

GOOD_GRID = "[grid]\nshape = [16, 16]\n"
GOOD_REST = '[model]\nname = "heat"\n[time]\nsteps = 5\n[output]\ndir = "{out}"\n'

BAD_CONFIGS = {
    "unknown model": ('[grid]\nshape = [16, 16]\n[model]\nname = "heet"\n[time]\nsteps = 5\n[output]\ndir = "{out}"\n',
                      ["model.name", "heet", "heat"]),
    "negative size": ("[grid]\nshape = [16, -4]\n" + GOOD_REST, ["grid.shape", "at least 1"]),
    "zero size": ("[grid]\nshape = [0]\n" + GOOD_REST, ["grid.shape"]),
    "missing grid": (GOOD_REST, ["grid", "missing"]),
    "missing shape": ("[grid]\nextent = [1.0]\n" + GOOD_REST, ["grid.shape", "missing"]),
    "missing steps": (GOOD_GRID + '[model]\nname = "heat"\n[time]\ncfl = 0.5\n[output]\ndir = "{out}"\n',
                      ["time", "steps", "end_time"]),
    "shape of strings": ('[grid]\nshape = ["a", "b"]\n' + GOOD_REST, ["grid.shape", "string"]),
    "steps as float": (GOOD_GRID + '[model]\nname = "heat"\n[time]\nsteps = 5.5\n[output]\ndir = "{out}"\n',
                       ["time.steps", "integer"]),
    "diffusivity as string": (GOOD_GRID + '[model]\nname = "heat"\ndiffusivity = "fast"\n[time]\nsteps = 5\n'
                              '[output]\ndir = "{out}"\n', ["model.diffusivity", "number"]),
    "unknown parameter": (GOOD_GRID + '[model]\nname = "heat"\ndifusivity = 1.0\n[time]\nsteps = 5\n'
                          '[output]\ndir = "{out}"\n', ["model.difusivity", "diffusivity"]),
    "broken toml": ("[grid\nshape = [16]\n", ["not valid TOML", "line 1"]),
    # Sizes and step counts that would wrap: an error naming the key, not a crash or a wrong dt.
    "shape past Int": ("[grid]\nshape = [9223372036854775807, 2, 2]\n" + GOOD_REST, ["grid.shape", "cells"]),
    "shape whose product wraps": ("[grid]\nshape = [3074457345618258603, 3]\n" + GOOD_REST,
                                  ["grid.shape", "cells"]),
    "end_time beyond counting": (GOOD_GRID + '[model]\nname = "heat"\n[time]\nend_time = 1e20\n[output]\n'
                                 'dir = "{out}"\n', ["time.end_time", "steps"]),
    "ensemble of 2^63-1 members": (GOOD_GRID + GOOD_REST + "[ensemble]\nmembers = 9223372036854775807\n",
                                   ["ensemble.members", "more than the 1000000"]),
    "cfl too small to arrive": (GOOD_GRID + '[model]\nname = "heat"\n[time]\nend_time = 1.0\ncfl = 1e-20\n'
                                '[output]\ndir = "{out}"\n', ["time.end_time", "raise cfl"]),
    "steps past 2^50": (GOOD_GRID + '[model]\nname = "heat"\n[time]\nsteps = 1152921504606846976\n[output]\n'
                        'dir = "{out}"\nevery = 1\n', ["time.steps", "1152921504606846976", "2^50"]),
    # A frame interval longer than the run would stretch it to one interval: 128 steps, not 2.
    "every longer than the run": ('[grid]\nshape = [16, 16]\n[model]\nname = "heat"\n[time]\nend_time = 0.001\n'
                                  '[output]\ndir = "{out}"\nevery = 128\n',
                                  ["output.every", "128 steps between frames is more than the whole run", "takes 2 steps"]),
    # Euler's walls reflect by default; one Dirichlet value would put zero density on them.
    "dirichlet walls for euler": ('[grid]\nshape = [16, 16]\nperiodic = false\n[boundary]\ncondition = "dirichlet"\n'
                                  '[model]\nname = "euler"\ninitial = "quadrants"\n[time]\nsteps = 5\n[output]\n'
                                  'dir = "{out}"\n',
                                  ["boundary.condition", "euler", "\"dirichlet\"", "\"reflecting\" or \"neumann\""]),
    "dirichlet walls for gray-scott": ('[grid]\nshape = [16, 16]\nperiodic = [true, false]\n[boundary]\n'
                                       'condition = "dirichlet"\n[model]\nname = "gray_scott"\n[time]\nsteps = 5\n'
                                       '[output]\ndir = "{out}"\n', ["boundary.condition", "gray_scott", "(axis y)"]),
}


@pytest.mark.parametrize("name", sorted(BAD_CONFIGS))
@pytest.mark.parametrize("ranks", [1, 3])
def test_bad_config_fails_clearly_on_every_rank(tmp_path, name, ranks):
    text, fragments = BAD_CONFIGS[name]
    out = tmp_path / "out"
    config = tmp_path / "bad.toml"
    config.write_text(text.format(out=out))
    started = time.monotonic()
    result = run_tessera(["run", config], ranks=ranks, timeout=60)
    elapsed = time.monotonic() - started
    assert result.returncode != 0
    assert elapsed < 30, f"took {elapsed:.0f} s to fail"
    errors = [line for line in result.stderr.splitlines() if line.startswith("tessera: error:")]
    assert len(errors) == 1, result.stderr  # said once, by rank 0, not once per rank
    for fragment in fragments:
        assert fragment in errors[0], errors[0]
    assert "Traceback" not in result.stderr and "Fatal error" not in result.stderr
    assert not (out / "results.hdf5").exists()


@pytest.mark.parametrize("ranks", [3, 5])
def test_more_ranks_than_the_grid_can_take_is_refused(tmp_path, ranks):
    config = write_config(tmp_path / "c.toml", [2, 1], tmp_path / "out", steps=2)
    result = run_tessera(["run", config], ranks=ranks, timeout=60)
    assert result.returncode != 0
    errors = [line for line in result.stderr.splitlines() if line.startswith("tessera: error:")]
    assert len(errors) == 1, result.stderr
    assert f"{ranks} ranks" in errors[0] and "2×1" in errors[0]


@pytest.mark.parametrize("command, ranks", [(["validate"], None), (["plan", "--ranks", "2"], None), (["run"], 3)])
def test_every_problem_of_a_config_is_reported_at_once(tmp_path, command, ranks):
    # Two typos, a value out of range and a boundary the model cannot take; and a key whose
    # removal only leaves it missing (grid.shape), which is one problem, not two.
    config = tmp_path / "bad.toml"
    config.write_text('[grid]\nshape = [16, 16]\nperiodic = false\nperiodc = true\n[boundary]\n'
                      'condition = "dirichlet"\n[model]\nname = "euler"\ngama = 1.4\n[time]\nsteps = 4\n'
                      f'cfl = 2\n[output]\ndir = "{tmp_path / "out"}"\nevery = 2\n')
    result = run_tessera([command[0], config, *command[1:]], ranks=ranks, timeout=60)
    assert result.returncode == 1, result.stderr
    assert result.stderr.count("tessera: error:") == 1, result.stderr
    assert "tessera: error: 4 problems:" in result.stderr, result.stderr
    for key in ("[grid.periodc]", "[model.gama]", "[time.cfl]", "[boundary.condition]"):
        assert result.stderr.count(key) == 1, (key, result.stderr)
    assert not (tmp_path / "out").exists()
    config.write_text('[grid]\nshape = ["a"]\n[model]\nname = "heat"\n[time]\nsteps = 4\n[output]\n'
                      f'dir = "{tmp_path / "out"}"\n')
    result = run_tessera([command[0], config, *command[1:]], ranks=ranks, timeout=60)
    assert result.returncode == 1 and "problems" not in result.stderr, result.stderr
    assert "[grid.shape] must be a list of integers" in result.stderr and "is missing" not in result.stderr


def test_a_model_without_a_boundary_section_gets_its_own_default(tmp_path):
    # Euler's default is a reflecting wall: the Riemann problem runs; with Dirichlet 0 (the
    # old default for every model) it stopped with NaN at step 10.
    config = write_config(tmp_path / "e.toml", [24, 24], tmp_path / "out", model="euler", steps=20, every=10,
                          periodic=[False, False], extra_model='initial = "quadrants"')
    shown = run_tessera(["validate", config], timeout=30)
    assert shown.returncode == 0 and 'boundaries ["reflecting", "reflecting"]' in shown.stdout, shown.stdout
    result = run_tessera(["run", config], ranks=2)
    assert result.returncode == 0, result.stderr
    with h5py.File(tmp_path / "out" / "results.hdf5", "r") as f:
        assert sorted(f["boundary_conditions"]) == ["x_reflecting", "y_reflecting"], list(f["boundary_conditions"])
    listed = run_tessera(["models"], timeout=30)
    assert 'boundaries: "reflecting", "neumann" (default "reflecting")' in listed.stdout


def test_validate_reports_the_same_problems_without_mpi(tmp_path):
    config = tmp_path / "bad.toml"
    config.write_text(BAD_CONFIGS["negative size"][0].format(out=tmp_path))
    result = run_tessera(["validate", config], timeout=30)
    assert result.returncode == 1
    assert "grid.shape" in result.stderr


@pytest.mark.parametrize("command", [["validate"], ["plan", "--ranks", "4"]])
def test_validate_and_plan_refuse_a_shape_past_what_can_be_addressed(tmp_path, command):
    config = tmp_path / "huge.toml"
    config.write_text(BAD_CONFIGS["shape past Int"][0].format(out=tmp_path / "out"))
    result = run_tessera([command[0], config, *command[1:]], timeout=30)
    assert result.returncode == 1, result.stdout + result.stderr  # not a trap or a signal
    assert "grid.shape" in result.stderr and "cells" in result.stderr
    assert "-2" not in result.stdout


def test_plan_states_totals_past_what_an_integer_holds(tmp_path):
    """2^50 frames of 4 GB, and 2^63 - 1 checkpoints kept: products that wrapped (a trap
    under -Ounchecked) are printed in floating point."""
    config = tmp_path / "far.toml"
    config.write_text("[grid]\nshape = [1024, 1024, 1024]\n[model]\nname = \"heat\"\n[time]\n"
                      f"steps = {2**50 - 1}\n[output]\ndir = \"{tmp_path / 'out'}\"\n[checkpoint]\n"
                      f"keep = {2**63 - 1}\n")
    result = run_tessera(["plan", config, "--ranks", "4", "--step-rate", "1e9"], timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "YB in all" in result.stdout and "YB on disk" in result.stdout, result.stdout


@pytest.mark.parametrize("ranks", [1, 2])
def test_missing_config_file_is_named(tmp_path, ranks):
    result = run_tessera(["run", tmp_path / "nowhere.toml"], ranks=ranks, timeout=30)
    assert result.returncode != 0
    assert "nowhere.toml does not exist" in result.stderr


@pytest.mark.parametrize("ranks", [1, 3])
def test_unwritable_output_folder_is_named(tmp_path, ranks):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    config = write_config(tmp_path / "c.toml", [8, 8], blocker / "out", steps=2)
    result = run_tessera(["run", config], ranks=ranks, timeout=30)
    assert result.returncode != 0
    assert "output.dir" in result.stderr and "cannot create the output folder" in result.stderr
    assert f"{blocker} is a file, not a folder" in result.stderr, result.stderr
    assert blocker.read_text() == "not a folder"


@pytest.mark.parametrize("ranks", [1, 3])
def test_what_stands_in_the_way_of_the_output_folder_is_named(tmp_path, ranks):
    cases = {}
    # `checkpoints` a file: the folder exists, its checkpoints folder cannot.
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "checkpoints").write_text("x")
    cases["a"] = f"{tmp_path / 'a' / 'checkpoints'} is a file, not a folder"
    # A link loop, and a link to nowhere.
    os.symlink(tmp_path / "loop", tmp_path / "loop")
    cases["loop"] = f"{tmp_path / 'loop'} is a link that leads nowhere"
    os.symlink(tmp_path / "missing" / "deeper", tmp_path / "dangling")
    cases["dangling"] = f"{tmp_path / 'dangling'} is a link that leads nowhere"
    for name, message in cases.items():
        config = write_config(tmp_path / f"{name}.toml", [8, 8], tmp_path / name, steps=2)
        result = run_tessera(["run", config], ranks=ranks, timeout=30)
        assert result.returncode == 1, result.stderr
        assert "cannot create the output folder" in result.stderr and message in result.stderr, result.stderr
        assert result.stderr.count("tessera: error:") == 1


def test_a_fifo_in_place_of_a_file_is_refused_not_waited_on(tmp_path):
    out = tmp_path / "out"
    config = write_config(tmp_path / "c.toml", [8, 8], out, steps=4, checkpoint="every = 2")
    assert run_tessera(["run", config], ranks=2).returncode == 0
    fifo = out / "checkpoints" / "checkpoint-0000000099.hdf5"
    os.mkfifo(fifo)
    listing = run_tessera(["inspect", out], timeout=30)
    assert listing.returncode == 0, listing.stderr
    assert str(fifo) not in listing.stdout and "checkpoint-0000000004.hdf5" in listing.stdout
    single = run_tessera(["inspect", fifo], timeout=30)
    assert single.returncode == 1 and "not a regular file" in single.stderr, single.stderr
    restarted = run_tessera(["run", config, "--restart", "auto"], ranks=2, timeout=60)
    assert restarted.returncode == 0, restarted.stderr
    assert "restarting from" in restarted.stdout and "checkpoint-0000000004.hdf5" in restarted.stdout
    explicit = run_tessera(["run", config, "--restart", fifo], ranks=2, timeout=30)
    assert explicit.returncode == 1 and "not a regular file" in explicit.stderr, explicit.stderr
    fifo_config = tmp_path / "fifo.toml"
    os.mkfifo(fifo_config)
    for command in (["validate", fifo_config], ["run", fifo_config]):
        result = run_tessera(command, ranks=2 if command[0] == "run" else None, timeout=30)
        assert result.returncode == 1 and "is not a regular file" in result.stderr, result.stderr


def test_existing_results_are_kept_unless_overwrite_is_given(tmp_path):
    out = tmp_path / "out"
    config = write_config(tmp_path / "c.toml", [8, 8], out, steps=2)
    assert run_tessera(["run", config], ranks=2).returncode == 0
    before = (out / "results.hdf5").read_bytes()
    again = run_tessera(["run", config], ranks=2, timeout=30)
    assert again.returncode != 0
    assert "already exists" in again.stderr and "--overwrite" in again.stderr
    assert (out / "results.hdf5").read_bytes() == before
    assert run_tessera(["run", config, "--overwrite"], ranks=2).returncode == 0


def test_a_rank_that_dies_takes_the_job_down_within_seconds(tmp_path):
    config = write_config(tmp_path / "long.toml", [48, 48, 48], tmp_path / "out", steps=1000000, every=1000000)
    job = subprocess.Popen([MPIRUN, "-n", "3", str(BINARY), "run", str(config)], env=environment(),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        victim = None
        while victim is None and time.monotonic() < deadline:
            time.sleep(0.5)
            listing = subprocess.run(["pgrep", "-f", f"{BINARY} run {config}"], capture_output=True, text=True)
            pids = [int(p) for p in listing.stdout.split() if int(p) != job.pid]
            if len(pids) >= 3 and (tmp_path / "out" / "results.hdf5").exists():
                victim = pids[-1]
        assert victim is not None, "the job never started"
        os.kill(victim, signal.SIGKILL)
        killed = time.monotonic()
        job.wait(timeout=30)
        assert job.returncode != 0
        assert time.monotonic() - killed < 30
    finally:
        if job.poll() is None:
            os.killpg(job.pid, signal.SIGKILL)
            job.wait()


@pytest.mark.parametrize("overlap", ["true", "false"])
def test_a_state_that_overflows_stops_every_rank_with_the_step_and_the_field(tmp_path, overlap):
    # u² overflows at once: the flux is infinite and the next values NaN. Frames written while
    # the steps go on or between them, every rank stops at the same point.
    config = write_config(tmp_path / "c.toml", [24, 20], tmp_path / "out", model="burgers",
                          extra_model="amplitude = 1e300", steps=20, every=5)
    config.write_text(config.read_text().replace("every = 5\n", f"every = 5\noverlap = {overlap}\n"))
    start = time.monotonic()
    result = run_tessera(["run", config], ranks=3, timeout=60)
    assert result.returncode == 1, result.stderr
    assert time.monotonic() - start < 30
    assert "no longer finite at step 5" in result.stderr and "velocity_x" in result.stderr
    assert result.stderr.count("tessera: error:") == 1
    # The causes are Burgers' own, most likely first, not the same advice for every model.
    assert "Likely causes, most likely first: (1) the time step: with fixed steps it is set by the initial velocity" in result.stderr
    # The frames before it are kept: the initial state only.
    with h5py.File(tmp_path / "out" / "results.hdf5", "r") as f:
        assert f["t1_fields/velocity"].shape[1] == 1


def test_a_grid_larger_than_the_node_is_refused_before_allocating(tmp_path):
    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    side = int((total / 16) ** (1 / 3)) * 2  # two float64 states of side³ cells: 4× the node
    config = write_config(tmp_path / "big.toml", [side, side, side], tmp_path / "out", steps=2)
    started = time.monotonic()
    result = run_tessera(["run", config], ranks=3, timeout=60)
    assert result.returncode == 1, result.stderr
    assert time.monotonic() - started < 30
    errors = [line for line in result.stderr.splitlines() if line.startswith("tessera: error:")]
    assert len(errors) == 1, result.stderr
    assert "this run needs at least" in errors[0] and "it has available (MemAvailable" in errors[0], errors[0]


def memory_cgroup(limit):
    """A new memory control group of this process's (v1 or v2) limited to `limit` bytes, or
    None where none can be made."""
    for line in open("/proc/self/cgroup").read().splitlines():
        number, controllers, path = line.split(":", 2)
        if "memory" in controllers.split(","):
            folder, limit_file = f"/sys/fs/cgroup/memory{path}", "memory.limit_in_bytes"
        elif number == "0" and controllers == "":
            folder, limit_file = f"/sys/fs/cgroup{path}", "memory.max"
        else:
            continue
        group = os.path.join(folder, f"tessera-test-{os.getpid()}")
        try:
            os.mkdir(group)
            with open(os.path.join(group, limit_file), "w") as f:
                f.write(str(limit))
            return group
        except OSError:
            if os.path.isdir(group):
                os.rmdir(group)
    return None


def test_a_grid_larger_than_the_jobs_cgroup_allows_is_refused(tmp_path):
    """Slurm confines a job's memory with a control group: the limit that counts is the
    group's, far below what the node has."""
    group = memory_cgroup(1 << 30)
    if group is None:
        pytest.skip("cannot make a memory control group here")
    try:
        config = write_config(tmp_path / "c.toml", [400, 400, 400], tmp_path / "out", steps=2)
        command = f"echo $$ > {group}/cgroup.procs && exec {MPIRUN} -n 2 {BINARY} run {config}"
        result = subprocess.run(["sh", "-c", command], capture_output=True, text=True, timeout=60,
                                env=environment())
        assert result.returncode == 1, result.stderr
        assert "this run needs at least" in result.stderr, result.stderr
        assert f"the memory limit of cgroup {group}" in result.stderr, result.stderr
    finally:
        for _ in range(50):
            try:
                os.rmdir(group)
                break
            except OSError:
                time.sleep(0.1)


def test_options_and_values_that_used_to_mislead_are_named(tmp_path):
    out = tmp_path / "out"
    config = write_config(tmp_path / "c.toml", [8, 8], out, steps=2)
    zero = run_tessera(["run", config, "--walltime", "00:00:00"], ranks=2, timeout=30)
    assert zero.returncode == 1 and "--walltime 00:00:00 is no time at all" in zero.stderr, zero.stderr
    nul = tmp_path / "nul.toml"
    nul.write_text(config.read_text().replace(f'dir = "{out}"', f'dir = "{out}\\u0000x"'))
    result = run_tessera(["run", nul], ranks=2, timeout=30)
    assert result.returncode == 1 and "holds a NUL character" in result.stderr, result.stderr
    assert not out.exists()
    bad_set = run_tessera(["validate", config, "--set", "grid.shape.x=1"], timeout=30)
    assert bad_set.returncode == 1, bad_set.stderr
    assert "[grid.shape] holds a value of type array, not a table" in bad_set.stderr, bad_set.stderr


def rank_processes(config, ranks, timeout=30):
    """{rank: pid} of the tessera ranks running `config`, once all have started (Open MPI
    and MPICH each tell a rank its number in its environment)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = {}
        listing = subprocess.run(["pgrep", "-f", f"^{BINARY} run {config}"], capture_output=True, text=True)
        for pid in map(int, listing.stdout.split()):
            try:
                environ = open(f"/proc/{pid}/environ", "rb").read().split(b"\0")
            except OSError:
                continue
            for entry in environ:
                for name in (b"OMPI_COMM_WORLD_RANK=", b"PMI_RANK="):
                    if entry.startswith(name):
                        found[int(entry[len(name):])] = pid
        if len(found) == ranks:
            return found
        time.sleep(0.1)
    raise AssertionError(f"the {ranks} ranks did not all start")


def start_watched(tmp_path, ranks, limit=3, steps=10**7):
    config = write_config(tmp_path / "w.toml", [32, 32, 32], tmp_path / "out", steps=steps, every=10**6,
                          extra=f"[run]\nwatchdog = {limit}\n")
    job = subprocess.Popen([MPIRUN, "-n", str(ranks), str(BINARY), "run", str(config)], env=environment(),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    pids = rank_processes(config, ranks)
    # Running: past the first steps, so the watchdog is armed.
    deadline = time.monotonic() + 60
    while not list((tmp_path / "out").glob("results.hdf5")) and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(1)
    return job, pids


def end(job, timeout):
    """Waits for the job; its exit code and its whole log (stdout, then stderr)."""
    try:
        out, err = job.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(job.pid, signal.SIGKILL)
        job.communicate()
        raise AssertionError(f"the job was still running {timeout} s after a rank stopped")
    return job.returncode, out + err


@pytest.mark.parametrize("ranks, stopped", [(3, 2), (4, 1)])
def test_a_stopped_rank_is_named_and_the_job_ends(tmp_path, ranks, stopped):
    job, pids = start_watched(tmp_path, ranks)
    started = time.monotonic()
    os.kill(pids[stopped], signal.SIGSTOP)
    code, err = end(job, timeout=60)
    assert code != 0
    assert time.monotonic() - started < 30
    errors = [line for line in err.splitlines() if line.startswith("tessera: error:")]
    assert errors and all("watchdog" in line or "has waited" in line for line in errors), err[-3000:]
    assert f"rank {stopped} did not arrive: no word from it for" in errors[0], errors


def test_when_rank_0_stops_the_others_end_the_job_and_say_so(tmp_path):
    job, pids = start_watched(tmp_path, 3)
    started = time.monotonic()
    os.kill(pids[0], signal.SIGSTOP)
    code, err = end(job, timeout=60)
    assert code != 0
    assert time.monotonic() - started < 40
    assert "rank 0 is likely stopped, hung or lost" in err, err[-3000:]


def test_a_job_suspended_as_a_whole_runs_on_when_resumed(tmp_path):
    """What Slurm's `scontrol suspend` does: every rank stopped, then continued. No rank
    waited for another, so the watchdog must not end the job."""
    job, pids = start_watched(tmp_path, 3, limit=2)
    for pid in pids.values():
        os.kill(pid, signal.SIGSTOP)
    time.sleep(2 * 2 + 5 + 3)  # past every limit the watchdog has
    for pid in pids.values():
        os.kill(pid, signal.SIGCONT)
    time.sleep(6)
    assert job.poll() is None, job.communicate()[1][-3000:]
    os.kill(job.pid, signal.SIGUSR1)  # stop it the usual way
    code, err = end(job, timeout=60)
    assert "because received SIGUSR1" in err and "(exit code 75)" in err, err[-3000:]
    assert "tessera: error:" not in err
    # Every rank exits 75; MPICH's Hydra before 4.2.3 (Debian 12's) can still report 0 for a
    # job whose ranks all exit at once (pmodels/mpich#7057, see exitTogether).
    assert code == 75 or (MPI == "mpich" and code == 0), err[-3000:]
