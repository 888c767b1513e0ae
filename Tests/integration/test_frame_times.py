"""Frames every interval of simulated time (`[output] every_time`) through the real binary:
frames exactly at the interval's multiples whatever the time step, the same bytes on 1 to 4
ranks and across a restart on another rank count, and clear errors; and The Well's boundary
labels as its own loader reads them."""

import json
import re
import shutil

import h5py
import numpy as np
import pytest

from conftest import assert_each_fails_clearly, assert_same_as_gold, datasets, run_tessera

# Burgers from a random state: its stable step follows the state, so it is no round number.
# Fixed steps here (adaptive ones, Burgers' default with every_time, are tested with Euler).
BURGERS = """
[grid]
shape = [384]
[model]
name = "burgers"
initial = "random"
viscosity = 0.003
seed = 11
[time]
end_time = 0.04
adaptive = false
[output]
dir = "{out}"
every_time = 0.01
{checkpoint}
"""


def burgers(tmp_path, name, checkpoint=""):
    path = tmp_path / f"{name}.toml"
    path.write_text(BURGERS.format(out=tmp_path / name, checkpoint=checkpoint))
    return path


def test_frames_fall_on_the_intervals_multiples_with_the_same_bytes_on_1_to_4_ranks(tmp_path):
    results = {}
    for ranks in (1, 2, 3, 4):
        result = run_tessera(["run", burgers(tmp_path, f"r{ranks}")], ranks=ranks)
        assert result.returncode == 0, result.stderr
        assert "5 frames every 0.01 of simulated time" in result.stdout, result.stdout
        results[ranks] = datasets(tmp_path / f"r{ranks}" / "results.hdf5", groups=("t1_fields", "scalars",
                                                                               "dimensions"))
    times = results[1]["dimensions/time"]
    # Exactly k × 0.01, as float64: the frames of runs with other time steps are the same.
    assert times.tobytes() == (np.arange(5) * 0.01).tobytes()
    for ranks in (2, 3, 4):
        assert sorted(results[ranks]) == sorted(results[1])
        for key, value in results[1].items():
            assert results[ranks][key].tobytes() == value.tobytes(), f"{ranks} ranks: {key}"
    with h5py.File(tmp_path / "r1" / "checkpoints" / sorted(
            p.name for p in (tmp_path / "r1" / "checkpoints").glob("checkpoint-*.hdf5"))[-1]) as f:
        steps, dt = int(f.attrs["step"]), float(f.attrs["dt"])
    # Whole equal steps per interval, within the stable step: 0.01 is no multiple of dt's
    # natural size, so the steps were shortened to fit.
    assert steps % 4 == 0 and steps > 4
    assert dt * (steps // 4) == pytest.approx(0.01, rel=1e-12)


def test_a_restart_on_another_rank_count_continues_bit_for_bit(tmp_path):
    gold = tmp_path / "gold"
    assert run_tessera(["run", burgers(tmp_path, "gold", "[checkpoint]\nevery = 7\nkeep = 100")], ranks=2
                       ).returncode == 0
    checkpoints = sorted(p.name for p in (gold / "checkpoints").glob("checkpoint-*.hdf5"))
    final = int(checkpoints[-1].split("-")[1].split(".")[0])
    out = tmp_path / "again"
    shutil.copytree(gold, out)
    for later in checkpoints[2:]:
        (out / "checkpoints" / later).unlink()
    config = burgers(tmp_path, "again", "[checkpoint]\nevery = 7\nkeep = 100")
    result = run_tessera(["run", config, "--restart", "auto"], ranks=3)
    assert result.returncode == 0, result.stderr
    assert "continuing from step 14" in result.stdout, result.stdout
    assert_same_as_gold(gold, out, final)


@pytest.mark.parametrize("ranks", [1, 3])
def test_frame_intervals_that_cannot_be_kept_are_refused(tmp_path, ranks):
    base = BURGERS.format(out=tmp_path / "out", checkpoint="")
    cases = {
        "with-steps": (base.replace("end_time = 0.04", "steps = 40"), "needs time.end_time"),
        "not-dividing": (base.replace("every_time = 0.01", "every_time = 0.03"),
                         "does not divide time.end_time = 0.04 into whole intervals"),
        "both": (base.replace("every_time = 0.01", "every_time = 0.01\nevery = 2"), "not both"),
    }
    assert_each_fails_clearly(tmp_path, "run", cases, ranks)


@pytest.mark.parametrize("model,condition,extra,expected", [
    ("euler", "neumann", 'initial = "sod"', "OPEN"),
    ("euler", "reflecting", 'initial = "sod"', "WALL"),
    ("advection", "neumann", 'initial = "gaussian"\nvelocity = [1.0, 0.5]', "OPEN"),
    ("heat", "neumann", 'initial = "gaussian"', "WALL"),
    ("gray_scott", "neumann", "", "WALL"),
    ("wave", "dirichlet", 'initial = "gaussian"\nsponge = 3', "OPEN"),
], ids=["euler-outflow", "euler-walls", "advection-outflow", "heat-insulated", "gray-scott-no-flux",
        "wave-sponge"])
def test_the_well_reads_outflow_as_open_and_walls_as_walls(tmp_path, model, condition, extra, expected):
    from the_well.data import WellDataset
    from the_well.data.datasets import BoundaryCondition

    out = tmp_path / "out"
    config = tmp_path / "c.toml"
    config.write_text(f'[grid]\nshape = [16, 12]\nperiodic = [true, false]\n[boundary]\ncondition = "{condition}"\n'
                      f'[model]\nname = "{model}"\n{extra}\n[time]\nsteps = 4\n[output]\ndir = "{out}"\nevery = 2\n')
    result = run_tessera(["run", config], ranks=2)
    assert result.returncode == 0, result.stderr
    with h5py.File(out / "results.hdf5") as f:
        assert f["boundary_conditions/x_periodic"].attrs["bc_type"] == "PERIODIC"
        assert f[f"boundary_conditions/y_{condition}"].attrs["bc_type"] == expected
    sample = WellDataset(path=str(out), n_steps_input=1, n_steps_output=1, use_normalization=False)[0]
    codes = sample["boundary_conditions"].tolist()
    assert codes == [[BoundaryCondition.PERIODIC.value] * 2, [BoundaryCondition[expected].value] * 2]


# Liska & Wendroff's case 3 (examples/euler.toml), small: its waves speed up as it runs.
EULER = """
[grid]
shape = [40, 36]
periodic = false
[boundary]
condition = "neumann"
[model]
name = "euler"
initial = "quadrants"
[time]
end_time = 0.2
cfl = 0.9
{time}
[output]
dir = "{out}"
every_time = 0.05
{checkpoint}
"""


def euler(tmp_path, name, time="", checkpoint=""):
    path = tmp_path / f"{name}.toml"
    path.write_text(EULER.format(out=tmp_path / name, time=time, checkpoint=checkpoint))
    return path


def last_checkpoint(out):
    with h5py.File(sorted((out / "checkpoints").glob("checkpoint-*.hdf5"))[-1]) as f:
        return int(f.attrs["step"]), float(f.attrs["time"])


def test_adaptive_steps_land_on_the_frames_with_the_same_bytes_on_1_to_4_ranks(tmp_path):
    results = {}
    for ranks in (1, 2, 3, 4):
        result = run_tessera(["run", euler(tmp_path, f"r{ranks}")], ranks=ranks)
        assert result.returncode == 0, result.stderr
        assert "in adaptive steps" in result.stdout and "adaptive steps: each 0.9 ×" in result.stdout, result.stdout
        # Progress shows the step as it goes; the last line comes at the end.
        assert re.search(r"step \d+ \(100%\)  t = 0.2  dt = [0-9.e-]+", result.stdout), result.stdout
        results[ranks] = datasets(tmp_path / f"r{ranks}" / "results.hdf5",
                                  groups=("t0_fields", "t1_fields", "scalars", "dimensions"))
    assert results[1]["dimensions/time"].tobytes() == (np.arange(5) * 0.05).tobytes()
    for ranks in (2, 3, 4):
        for key, value in results[1].items():
            assert results[ranks][key].tobytes() == value.tobytes(), f"{ranks} ranks: {key}"
    # The same run with fixed steps takes more of them: those leave room for the waves to come
    # (model.speedup) and are set by the initial state.
    fixed = run_tessera(["run", euler(tmp_path, "fixed", time="adaptive = false")], ranks=2)
    assert fixed.returncode == 0, fixed.stderr
    adaptive_steps, fixed_steps = last_checkpoint(tmp_path / "r2")[0], last_checkpoint(tmp_path / "fixed")[0]
    assert adaptive_steps < 0.75 * fixed_steps, (adaptive_steps, fixed_steps)
    assert last_checkpoint(tmp_path / "r2")[1] == 0.2
    # validate says which kind of step a run takes.
    for config, expected in [(euler(tmp_path, "v"), True), (euler(tmp_path, "w", time="adaptive = false"), False)]:
        facts = json.loads(run_tessera(["validate", config, "--json"]).stdout)
        assert facts["time"]["adaptive"] is expected and facts["time"]["max_dt_growth"] == 1.1


def test_an_adaptive_run_restarted_on_another_rank_count_continues_bit_for_bit(tmp_path):
    policy = "[checkpoint]\nevery = 5\nkeep = 1000"
    gold = tmp_path / "gold"
    result = run_tessera(["run", euler(tmp_path, "gold", checkpoint=policy)], ranks=2)
    assert result.returncode == 0, result.stderr
    checkpoints = sorted(p.name for p in (gold / "checkpoints").glob("checkpoint-*.hdf5"))
    final = last_checkpoint(gold)[0]
    # Cut back to step 10, mid-interval, with the steps still growing from the last one.
    out = tmp_path / "again"
    shutil.copytree(gold, out)
    for later in checkpoints[2:]:
        (out / "checkpoints" / later).unlink()
    result = run_tessera(["run", euler(tmp_path, "again", checkpoint=policy), "--restart", "auto"], ranks=3)
    assert result.returncode == 0, result.stderr
    assert "continuing from step 10" in result.stdout, result.stdout
    assert_same_as_gold(gold, out, final)
    # A fixed-step run cannot continue an adaptive one in the same results.
    fixed = euler(tmp_path, "again", time="adaptive = false", checkpoint=policy)
    mixed = run_tessera(["run", fixed, "--restart", "auto"], ranks=1)
    assert mixed.returncode == 1 and "written with adaptive steps, this config takes fixed steps" in mixed.stderr


@pytest.mark.parametrize("ranks", [1, 3])
def test_adaptive_steps_that_cannot_be_taken_are_refused(tmp_path, ranks):
    base = EULER.format(out=tmp_path / "out", time="", checkpoint="")
    heat = (f'[grid]\nshape = [16]\n[model]\nname = "heat"\n[time]\nend_time = 0.1\nadaptive = true\n'
            f'[output]\ndir = "{tmp_path / "out"}"\nevery_time = 0.05\n')
    cases = {
        "without-frame-times": (base.replace("every_time = 0.05", "every = 2")
                                         .replace("cfl = 0.9", "cfl = 0.9\nadaptive = true"),
                                         "adaptive steps need time.end_time and output.every_time"),
        "fixed-model": (heat, "stable step does not change"),
        "shrinking": (base.replace("cfl = 0.9", "cfl = 0.9\nmax_dt_growth = 0.5"), "must be at least 1"),
        # Velocities of 1e20 leave a stable step that would take more than 2^50 steps to reach
        # the end: an error, not a run that never ends.
        "collapsed": (BURGERS.format(out=tmp_path / "out", checkpoint="").replace("adaptive = false\n", "")
                      .replace("seed = 11", "seed = 11\namplitude = 1e20"), "the stable time step fell to"),
    }
    assert_each_fails_clearly(tmp_path, "run", cases, ranks)
