"""Gradients through the real binary: the dot-product and Taylor tests of `tessera
check-adjoint` at 1 to 4 ranks, `tessera gradient` giving the same gradient on every rank
count and the same bits whatever the memory budget, `tessera invert` on the example, and
clear errors for what cannot be differentiated."""

import re
import shutil
import time

import h5py
import numpy as np
import pytest

from conftest import assert_each_fails_clearly, assert_paraview_shows, ROOT, run_tessera

RANKS = [1, 2, 3, 4]

# A shot between a sponge-lined wall and a periodic axis, receivers across the far side.
WAVE = """
[grid]
shape = [36, 28]
periodic = [false, true]
[boundary]
condition = "dirichlet"
[model]
name = "wave"
velocity = 1.5
velocity_max = 2.0
anomaly = {anomaly}
anomaly_width = 0.12
source = [0.2, 0.5]
frequency = 6.0
receivers = 11
receiver_start = [0.8, 0.05]
receiver_end = [0.8, 0.95]
sponge = 5
sponge_strength = 60.0
[time]
end_time = 0.8
[output]
dir = "{out}"
every = 10
[inversion]
{inversion}
"""

# Sensors downstream of a warm spot, insulated walls on one axis, periodic on the other.
HEAT = """
[grid]
shape = [30, 24]
periodic = [false, true]
[boundary]
condition = "{condition}"
value = 0.5
[model]
name = "heat"
diffusivity = {diffusivity}
diffusivity_max = 0.02
initial = "gaussian"
width = 0.15
centre = [0.3, 0.4]
receivers = 7
receiver_start = [0.6, 0.1]
receiver_end = [0.9, 0.9]
[time]
steps = 80
[output]
dir = "{out}"
every = 20
[inversion]
{inversion}
"""


def wave_config(tmp_path, name, anomaly=0.0, inversion=""):
    path = tmp_path / f"{name}.toml"
    path.write_text(WAVE.format(anomaly=anomaly, out=tmp_path / name, inversion=inversion))
    return path


def heat_config(tmp_path, name, diffusivity=0.01, condition="neumann", inversion=""):
    path = tmp_path / f"{name}.toml"
    path.write_text(HEAT.format(diffusivity=diffusivity, condition=condition, out=tmp_path / name,
                                inversion=inversion))
    return path


def observed(tmp_path, model):
    """Runs the true model and returns its results file, the observed data."""
    if model == "wave":
        config = wave_config(tmp_path, "true", anomaly=0.3)
    else:
        config = heat_config(tmp_path, "true", diffusivity=0.015)
    result = run_tessera(["run", config], ranks=2)
    assert result.returncode == 0, result.stderr
    return tmp_path / "true" / "results.hdf5"


def trial(tmp_path, model, name, inversion):
    return (wave_config if model == "wave" else heat_config)(tmp_path, name, inversion=inversion)


@pytest.mark.parametrize("ranks", RANKS)
@pytest.mark.parametrize("case", ["wave", "heat-neumann", "heat-dirichlet"])
def test_dot_product_and_taylor_tests_pass_on_every_rank_count(tmp_path, case, ranks):
    if case == "wave":
        config = wave_config(tmp_path, "check", anomaly=0.3)
    else:
        config = heat_config(tmp_path, "check", condition=case.split("-")[1])
    result = run_tessera(["check-adjoint", config], ranks=ranks)
    assert result.returncode == 0, result.stdout + result.stderr
    mismatches = re.findall(r"dot product (.+?): .* mismatch (\S+)", result.stdout)
    assert [name for name, _ in mismatches] == ["halo exchange", "one step", "linearised run"]
    for name, value in mismatches:
        assert float(value) < 1e-12, name
    sizes = re.findall(r"taylor h = (\S+)\s+first-order remainder (\S+)\s+second-order remainder (\S+)",
                       result.stdout)
    assert len(sizes) >= 5
    h, first, second = (np.array([float(row[i]) for row in sizes]) for i in range(3))
    assert abs(np.polyfit(np.log(h), np.log(first), 1)[0] - 1) < 0.1
    assert abs(np.polyfit(np.log(h), np.log(second), 1)[0] - 2) < 0.1


def gradient_fields(path):
    with h5py.File(path, "r") as f:
        fields = {name: item[...] for name, item in f["t0_fields"].items()}
        return fields, float(f["scalars/misfit"][()])


def global_gradients(path):
    """The gradients with respect to the model's global parameters, by parameter."""
    with h5py.File(path, "r") as f:
        return {name[:-len("_gradient")]: float(item[()]) for name, item in f["scalars"].items()
                if name.endswith("_gradient")}


@pytest.mark.parametrize("model", ["wave", "heat"])
def test_the_gradient_on_2_3_and_4_ranks_equals_the_one_on_1_rank(tmp_path, model):
    data = observed(tmp_path, model)
    results = {}
    for ranks in RANKS:
        config = trial(tmp_path, model, f"gradient-{ranks}", f'observed = "{data}"')
        result = run_tessera(["gradient", config], ranks=ranks)
        assert result.returncode == 0, result.stderr
        results[ranks] = gradient_fields(tmp_path / f"gradient-{ranks}" / "gradient.hdf5")
    fields, misfit = results[1]
    expected = {"wave": ["squared_slowness_gradient"],
                "heat": ["diffusivity_gradient", "temperature_initial_gradient"]}[model]
    assert sorted(fields) == expected
    assert misfit > 0
    for name, field in fields.items():
        assert field.shape == (1, 1) + ((36, 28) if model == "wave" else (30, 24)) and field.dtype == np.float64
        assert np.abs(field).max() > 0
    parameters = {"wave": ["anomaly", "velocity"], "heat": ["diffusivity"]}[model]
    globals_ = {ranks: global_gradients(tmp_path / f"gradient-{ranks}" / "gradient.hdf5") for ranks in RANKS}
    assert sorted(globals_[1]) == sorted(parameters)
    for ranks in RANKS[1:]:
        other, other_misfit = results[ranks]
        assert abs(other_misfit - misfit) <= 1e-12 * misfit
        for name, value in globals_[1].items():
            assert abs(globals_[ranks][name] - value) <= 1e-12 * abs(value), f"{name} on {ranks} ranks"
        for name, field in fields.items():
            scale = np.abs(field).max()
            assert np.abs(other[name] - field).max() <= 1e-12 * scale, f"{name} on {ranks} ranks"


@pytest.mark.parametrize("model,parameter,value", [
    ("wave", "anomaly", 0.1), ("wave", "velocity", 1.4), ("heat", "diffusivity", 0.012)])
def test_the_gradient_with_respect_to_a_global_parameter_matches_finite_differences(tmp_path, model, parameter,
                                                                                  value):
    data = observed(tmp_path, model)
    config = trial(tmp_path, model, "global", f'observed = "{data}"')
    step = 1e-4 * value
    misfits = {}
    for name, shift in [("centre", 0), ("up", step), ("down", -step)]:
        result = run_tessera(["gradient", config, "--overwrite", "--set", f"model.{parameter}={value + shift!r}"],
                             ranks=3)
        assert result.returncode == 0, result.stderr
        with h5py.File(tmp_path / "global" / "gradient.hdf5", "r") as f:
            misfits[name] = float(f["scalars/misfit"][()])
            if name == "centre":
                gradient = float(f[f"scalars/{parameter}_gradient"][()])
                assert f.attrs[f"{parameter}_gradient"] == gradient
    difference = (misfits["up"] - misfits["down"]) / (2 * step)
    assert abs(gradient) > 0
    assert abs(difference - gradient) <= 1e-6 * abs(gradient), (difference, gradient)


def test_the_gradient_file_follows_the_well_layout(tmp_path):
    data = observed(tmp_path, "wave")
    config = trial(tmp_path, "wave", "layout", f'observed = "{data}"')
    assert run_tessera(["gradient", config], ranks=2).returncode == 0
    with h5py.File(tmp_path / "layout" / "gradient.hdf5", "r") as f:
        assert f.attrs["dataset_name"] == "tessera_wave_gradient"
        assert list(f["t0_fields"].attrs["field_names"]) == ["squared_slowness_gradient"]
        assert "misfit" in list(f["scalars"].attrs["field_names"])
        assert f["dimensions/x"].shape == (36,) and f["dimensions/time"].shape == (1,)
        assert f["t0_fields/squared_slowness_gradient"].attrs["time_varying"]
    # ParaView shows the gradient where it is, in float64 as stored.
    assert_paraview_shows(tmp_path / "layout" / "gradient.hdf5", ["squared_slowness_gradient"])
    # Asked again, it keeps the file and suggests only what `gradient` takes.
    again = run_tessera(["gradient", config], ranks=2)
    assert again.returncode == 1 and "gradient.hdf5 already exists" in again.stderr, again.stderr
    assert "--overwrite" in again.stderr and "--restart" not in again.stderr, again.stderr


@pytest.mark.parametrize("ranks", [1, 3])
@pytest.mark.parametrize("model", ["wave", "heat"])
def test_a_small_memory_budget_gives_the_same_gradient_bit_for_bit(tmp_path, model, ranks):
    data = observed(tmp_path, model)
    gradients = {}
    logs = {}
    # Everything kept; then room for 3 and for 2 states of the largest block (1 rank).
    for name, memory in [("all", None), ("three", 3), ("two", 2)]:
        budget = "" if memory is None else f"memory = {memory * state_bytes(model, ranks)}"
        config = trial(tmp_path, model, name, f'observed = "{data}"\n{budget}')
        result = run_tessera(["gradient", config], ranks=ranks)
        assert result.returncode == 0, result.stderr
        gradients[name] = gradient_fields(tmp_path / name / "gradient.hdf5")
        logs[name] = result.stdout + result.stderr
    steps = int(re.search(r"(\d+) steps of dt", logs["all"]).group(1))
    for name in ("three", "two"):
        taken = int(re.search(r"gradient in .* \((\d+) forward", logs[name]).group(1))
        assert taken > steps + 1, "a small budget must recompute"
        fields, misfit = gradients[name]
        assert misfit == gradients["all"][1]
        for key, field in fields.items():
            assert field.tobytes() == gradients["all"][0][key].tobytes(), f"{key} with budget {name}"


def state_bytes(model, ranks):
    """Bytes of one snapshot of the largest block: fields × (cells + ghosts) × 8."""
    shape, fields = ((36, 28), 2) if model == "wave" else ((30, 24), 1)
    # Ranks split the first axis here (a process grid of ranks × 1 for these shapes).
    dims = {1: (1, 1), 3: (3, 1)}[ranks]
    block = [-(-n // d) + 2 for n, d in zip(shape, dims)]
    return fields * block[0] * block[1] * 8


def test_the_invert_example_cuts_the_misfit_tenfold(tmp_path):
    example = tmp_path / "invert-wave.toml"
    shutil.copy(ROOT / "examples" / "invert-wave.toml", example)
    true = run_tessera(["run", example, "--set", "model.anomaly=0.4", "--set",
                        "output.dir=output/invert-wave-observed"], ranks=3, cwd=tmp_path)
    assert true.returncode == 0, true.stderr
    started = time.monotonic()
    result = run_tessera(["invert", example], ranks=3, cwd=tmp_path, timeout=600)
    assert result.returncode == 0, result.stderr
    log = result.stdout + result.stderr
    reported = [float(v) for v in re.findall(r"iteration \d+: misfit (\S+)", log)]
    assert len(reported) == 11, log
    with h5py.File(tmp_path / "output" / "invert-wave" / "inversion.hdf5", "r") as f:
        misfit = f["scalars/misfit"][0]
        slowness = f["t0_fields/squared_slowness"][0]
    assert np.allclose(misfit, reported, rtol=1e-12)
    assert all(np.diff(misfit) < 0), misfit
    assert misfit[-1] <= misfit[0] / 10, misfit
    # The anomaly is fast: the slowness falls, most where the anomaly is.
    change = slowness[-1] - slowness[0]
    centre = change[30:50, 30:50].mean()
    assert centre < 0 and centre < change.mean()
    assert time.monotonic() - started < 300


@pytest.mark.parametrize("ranks", [1, 3])
def test_what_cannot_be_differentiated_or_fitted_fails_clearly_on_every_rank(tmp_path, ranks):
    data = observed(tmp_path, "wave")
    huge = tmp_path / "huge.hdf5"
    shutil.copy(data, huge)
    with h5py.File(huge, "r+") as f:
        f["receivers/traces"][...] = f["receivers/traces"][...] * 1e300 + 1e306
    cases = {
        "overflowing-misfit": (WAVE.format(anomaly=0, out=tmp_path / "g", inversion=f'observed = "{huge}"'),
                               "the misfit is inf: [inversion] observed holds traces far from this model's scale"),
        "no-adjoint": ('[grid]\nshape = [20]\n[model]\nname = "advection"\nvelocity = [1.0]\n[time]\nsteps = 4\n'
                       f'[output]\ndir = "{tmp_path}/a"\n', "has no adjoint; gradients are available for"),
        "no-observed": (WAVE.format(anomaly=0, out=tmp_path / "b", inversion=""), "[inversion.observed] is missing"),
        "missing-file": (WAVE.format(anomaly=0, out=tmp_path / "c", inversion='observed = "nowhere.hdf5"'),
                         "nowhere.hdf5 does not exist"),
        "other-times": (WAVE.format(anomaly=0, out=tmp_path / "d", inversion=f'observed = "{data}"')
                        .replace("end_time = 0.8", "end_time = 0.5"), "samples per receiver"),
        "tiny-budget": (WAVE.format(anomaly=0, out=tmp_path / "e", inversion=f'observed = "{data}"\nmemory = "1 kB"'),
                        "holds fewer than 2 snapshots"),
        "no-receivers": (WAVE.format(anomaly=0, out=tmp_path / "f", inversion=f'observed = "{data}"')
                         .replace("receivers = 11", "receivers = 0"), "a misfit needs receivers"),
    }
    assert_each_fails_clearly(tmp_path, "gradient", cases, ranks)


def test_a_config_with_deep_halos_gives_the_same_gradient_with_the_adjoint_one_stencil_deep(tmp_path):
    """`grid.halo_depth` is for `tessera run`: `gradient` takes ghost zones one stencil deep
    (its reverse exchange needs them), says so, and gives the gradient of depth 1 bit for bit."""
    data = observed(tmp_path, "wave")
    results = {}
    for depth in (1, 3):
        config = trial(tmp_path, "wave", f"gradient-{depth}", f'observed = "{data}"')
        result = run_tessera(["gradient", config, "--set", f"grid.halo_depth={depth}"], ranks=3)
        assert result.returncode == 0, result.stderr
        results[depth] = gradient_fields(tmp_path / f"gradient-{depth}" / "gradient.hdf5")
    assert "halo depth 1 for the adjoint run (grid.halo_depth = 3 is for tessera run)" in result.stdout
    (deep, deep_misfit), (shallow, shallow_misfit) = results[3], results[1]
    assert deep_misfit == shallow_misfit > 0 and sorted(deep) == sorted(shallow)
    for name in shallow:
        assert deep[name].tobytes() == shallow[name].tobytes(), name
