"""Every model besides heat through the real binary: bitwise identical on 1, 2, 3 and 4
ranks, a restart from a checkpoint mid-run that continues bit for bit, output in The Well's
layout that its loader reads, and the example configs."""

import pathlib
import shutil

import h5py
import numpy as np
import pytest

from conftest import ROOT, assert_same_as_gold, datasets, run_tessera, write_config

# (case, shape, model, its parameters, field) for each model and scheme worth covering.
CASES = [
    ("advection-upwind-2d", [30, 22], "advection", 'scheme = "upwind"\nvelocity = [1.0, -0.6]',
     "t0_fields/concentration"),
    ("advection-muscl-3d", [14, 12, 10], "advection",
     'scheme = "muscl"\nlimiter = "mc"\nintegrator = "ssprk3"\ninitial = "gaussian"\nvelocity = [0.5, 1.0, -0.7]',
     "t0_fields/concentration"),
    ("advection-muscl-1d", [50], "advection", "velocity = [-1.0]", "t0_fields/concentration"),
    ("burgers-1d", [64], "burgers", 'initial = "random"\nseed = 3\nviscosity = 0.002', "t1_fields/velocity"),
    ("burgers-2d", [26, 20], "burgers", 'initial = "sine"\nlimiter = "minmod"\nintegrator = "ssprk3"',
     "t1_fields/velocity"),
    ("burgers-3d", [12, 10, 9], "burgers", 'initial = "random"\nseed = 11\nlimiter = "mc"\nmax_mode = 2',
     "t1_fields/velocity"),
    ("gray-scott-2d", [32, 26], "gray_scott", 'pattern = "maze"\nseeds = 4\nwidth = 0.1\ndiffusivity_a = 2e-3\ndiffusivity_b = 1e-3',
     "t0_fields/B"),
    ("wave-2d", [30, 24], "wave",
     'velocity = 1.2\nanomaly = 0.4\nsource = [0.4, 0.3]\nreceivers = 7\nreceiver_start = [0.1, 0.2]\n'
     'receiver_end = [0.9, 0.8]\nsponge = 4', "t0_fields/pressure"),
    ("wave-1d", [60], "wave", 'initial = "gaussian"\nsource = [0.3]\nreceivers = 2\nreceiver_start = [0.0]\nreceiver_end = [1.0]',
     "t0_fields/pressure"),
    ("wave-3d", [12, 10, 9], "wave", 'initial = "standing"\nanomaly = -0.3\nreceivers = 3\nreceiver_start = [0.1, 0.1, 0.1]\n'
     'receiver_end = [0.9, 0.9, 0.9]', "t0_fields/pressure"),
    ("euler-quadrants-2d", [30, 26], "euler", 'initial = "quadrants"\nlimiter = "minmod"\nintegrator = "ssprk2"',
     "t1_fields/momentum"),
    ("euler-waves-quadrants-2d", [30, 26], "euler",
     'initial = "quadrants"\nlimiter = "minmod"\nintegrator = "wave_propagation"', "t1_fields/momentum"),
    ("euler-sod-3d", [16, 6, 5], "euler", 'initial = "sod"', "t1_fields/momentum"),
    ("euler-waves-shear-3d", [12, 10, 9], "euler",
     'initial = "kelvin_helmholtz"\nlimiter = "vanleer"\nintegrator = "wave_propagation"', "t1_fields/momentum"),
    ("euler-rayleigh-taylor-2d", [12, 30], "euler", 'initial = "rayleigh_taylor"\ngravity = [0.0, -0.5]',
     "t1_fields/momentum"),
    ("gray-scott-3d", [12, 10, 14], "gray_scott",
     'pattern = "spirals"\ninitial = "square"\nintegrator = "ssprk3"\ndiffusivity_a = 2e-3\ndiffusivity_b = 1e-3',
     "t0_fields/B"),
]
IDS = [case[0] for case in CASES]
# The cases whose restart is tested: one per model and field rank.
RESTARTED = [case for case in CASES if case[0] in (
    "advection-upwind-2d", "advection-muscl-3d", "burgers-1d", "burgers-2d", "gray-scott-2d", "wave-2d",
    "euler-rayleigh-taylor-2d", "euler-waves-quadrants-2d")]
# Cases with walls: their periodic flags and [boundary] lines (the others are periodic).
WALLS = {
    "wave-2d": ([False, False], ""),
    "euler-quadrants-2d": ([False, False], 'condition = "neumann"'),
    "euler-waves-quadrants-2d": ([False, False], 'condition = "neumann"'),
    "euler-sod-3d": ([False, True, True], 'condition = "neumann"'),
    "euler-rayleigh-taylor-2d": ([True, False], 'condition = "reflecting"'),
}


def config_for(path, out, shape, model, parameters, steps=40, every=10, checkpoint="", case=None):
    periodic, boundary = WALLS.get(case, (None, ""))
    return write_config(path, shape, out, model=model, extra_model=parameters, steps=steps, every=every,
                        checkpoint=checkpoint, periodic=periodic, boundary=boundary)


@pytest.mark.parametrize("case,shape,model,parameters,field", CASES, ids=IDS)
def test_results_are_bitwise_identical_on_1_2_3_and_4_ranks(tmp_path, case, shape, model, parameters, field):
    results = {}
    for ranks in (1, 2, 3, 4):
        out = tmp_path / f"r{ranks}"
        config = config_for(tmp_path / f"{ranks}.toml", out, shape, model, parameters, case=case)
        result = run_tessera(["run", config], ranks=ranks)
        assert result.returncode == 0, result.stderr
        results[ranks] = datasets(out / "results.hdf5")
    values = results[1][field]
    components = [len(shape)] if field.startswith("t1_") else []
    if model == "euler":  # every component of the state changed
        for group in ("t0_fields/density", "t0_fields/energy"):
            assert np.ptp(results[1][group][0, -1] - results[1][group][0, 0]) > 0
    assert values.shape == (1, 5, *shape, *components)
    assert np.isfinite(values).all() and np.ptp(values[0, -1]) > 0
    for ranks in (2, 3, 4):
        assert sorted(results[ranks]) == sorted(results[1])
        for key in results[1]:
            assert results[ranks][key].tobytes() == results[1][key].tobytes(), f"{ranks} ranks: {key} differs"


@pytest.mark.parametrize("case,shape,model,parameters,field", RESTARTED, ids=[case[0] for case in RESTARTED])
def test_a_restart_mid_run_continues_bit_for_bit(tmp_path, case, shape, model, parameters, field):
    gold, out = tmp_path / "gold", tmp_path / "restarted"
    straight = config_for(tmp_path / "gold.toml", gold, shape, model, parameters, checkpoint="every = 20\nkeep = 5",
                          case=case)
    assert run_tessera(["run", straight], ranks=2).returncode == 0
    # The run as if it had died after step 20: its output up to the checkpoint at step 20.
    shutil.copytree(gold, out)
    for later in (out / "checkpoints").glob("checkpoint-*.hdf5"):
        if later.name != "checkpoint-0000000020.hdf5":
            later.unlink()
    config = config_for(tmp_path / "again.toml", out, shape, model, parameters, checkpoint="every = 20\nkeep = 5",
                        case=case)
    result = run_tessera(["run", config, "--restart", "auto"], ranks=3)
    assert result.returncode == 0, result.stderr
    assert "continuing from step 20" in result.stdout + result.stderr
    assert_same_as_gold(gold, out, 40)


# A gaussian bump in each, so that the total is far from zero and a relative drift means something.
@pytest.mark.parametrize("shape,model,parameters,total", [
    ([14, 12, 10], "advection", 'limiter = "mc"\ninitial = "gaussian"\nvelocity = [0.5, 1.0, -0.7]',
     "total_concentration"),
    ([30, 22], "advection", 'scheme = "upwind"\ninitial = "gaussian"\nvelocity = [1.0, -0.6]',
     "total_concentration"),
    ([64], "burgers", 'initial = "gaussian"\nviscosity = 0.002', "total_velocity_x"),
    ([20, 18, 16], "heat", 'initial = "gaussian"\ndiffusivity = 0.05', "total_temperature"),
], ids=["advection-muscl-3d", "advection-upwind-2d", "burgers-1d", "heat-3d"])
def test_conserved_totals_drift_less_than_1e_12_in_periodic_domains(tmp_path, shape, model, parameters, total):
    out = tmp_path / "out"
    config = config_for(tmp_path / "c.toml", out, shape, model, parameters, steps=200, every=20)
    result = run_tessera(["run", config], ranks=3)
    assert result.returncode == 0, result.stderr
    with h5py.File(out / "results.hdf5", "r") as f:
        assert total in list(f["scalars"].attrs["field_names"])
        series = f[f"scalars/{total}"][0]
        fields = f[{"advection": "t0_fields/concentration", "heat": "t0_fields/temperature"}.get(
            model, "t1_fields/velocity")][0]
        spacing = np.prod([f[f"dimensions/{axis}"][1] - f[f"dimensions/{axis}"][0] for axis in "xyz"[:len(shape)]])
    assert series.dtype == np.float64 and series.shape == (11,)
    # The series is the integral of the field: the float32 frames agree to their precision.
    np.testing.assert_allclose(series, fields.reshape(11, -1).astype(np.float64).sum(axis=1) * spacing, rtol=1e-5)
    drift = np.max(np.abs(series - series[0])) / abs(series[0])
    assert drift < 1e-12, drift


@pytest.mark.parametrize("model,parameters,fields,components", [
    ("advection", "velocity = [1.0, 0.5]", "t0_fields/concentration", 1),
    ("burgers", 'initial = "random"', "t1_fields/velocity", 2),
    # Its results also hold the receivers group, which the loader must pass over.
    ("wave", 'initial = "gaussian"\nsource = [0.5, 0.5]\nreceivers = 3\nreceiver_start = [0.1, 0.1]\n'
     'receiver_end = [0.9, 0.1]', "t0_fields/pressure", 1),
])
def test_the_well_loader_reads_the_output(tmp_path, model, parameters, fields, components):
    the_well = pytest.importorskip("the_well.data")
    out = tmp_path / "out"
    config = config_for(tmp_path / "c.toml", out, [16, 12], model, parameters, steps=20, every=2)
    result = run_tessera(["run", config], ranks=3)
    assert result.returncode == 0, result.stderr
    dataset = the_well.WellDataset(path=str(out), n_steps_input=2, n_steps_output=3, use_normalization=False)
    sample = dataset[0]
    assert tuple(sample["input_fields"].shape) == (2, 16, 12, components)
    assert tuple(sample["output_fields"].shape) == (3, 16, 12, components)
    metadata = dataset.metadata
    group, name = fields.split("/")
    expected = [name] if group == "t0_fields" else [f"{name}_x", f"{name}_y"]
    assert metadata.field_names[int(group[1])] == expected
    with h5py.File(out / "results.hdf5", "r") as f:
        stored = f[fields][0, 0]
        assert list(f[group].attrs["field_names"]) == [name]
    for c in range(components):
        component = stored if group == "t0_fields" else stored[..., c]
        np.testing.assert_array_equal(sample["input_fields"][0, ..., c].numpy(), component)


@pytest.mark.parametrize("ranks", [1, 3])
def test_the_advection_example_carries_the_sine_once_round(tmp_path, ranks):
    example = ROOT / "examples" / "advection.toml"
    result = run_tessera(["run", example, "--set", f"output.dir={tmp_path}"], ranks=ranks, timeout=120)
    assert result.returncode == 0, result.stderr
    with h5py.File(tmp_path / "results.hdf5", "r") as f:
        field = f["t0_fields/concentration"][0].astype(np.float64)
        assert f["dimensions/time"][-1] == pytest.approx(1.0)
    # After one period the exact solution is the initial state again.
    error = np.mean(np.abs(field[-1] - field[0]))
    assert error < 0.02 * np.mean(np.abs(field[0])), error


def test_a_ricker_source_reaches_a_receiver_as_the_1d_greens_function_says(tmp_path):
    # In 1-D, m p_tt − p_xx = q(t) δ(x − s) has the solution p(x, t) = (c/2) ∫ q up to
    # t − |x − s|/c, and the integral of a Ricker wavelet is A τ exp(−π²f²τ²), τ = t − delay.
    # The domain is long enough that nothing comes back from its ends before the run stops.
    c, peak, n = 2.0, 5.0, 6000
    parameters = (f"velocity = {c}\nfrequency = {peak}\nsource = [1.25]\nreceivers = 2\n"
                  "receiver_start = [1.25]\nreceiver_end = [1.75]")
    out = tmp_path / "out"
    write_config(tmp_path / "c.toml", [n], out, model="wave", extra_model=parameters, end_time=0.6, every=100,
                 periodic=[False], extra="extent = [3.0]")
    result = run_tessera(["run", tmp_path / "c.toml", "--set", "time.cfl=0.5"], ranks=3)
    assert result.returncode == 0, result.stderr
    with h5py.File(out / "results.hdf5", "r") as f:
        traces, times = f["receivers/traces"][...], f["receivers/time"][...]
        coordinates = f["receivers/coordinates"][...]
        assert list(f["receivers"].attrs["components"]) == ["pressure", "pressure"]
    np.testing.assert_allclose(coordinates[:, 0], [1.25, 1.75])
    h = 3.0 / n
    # The source and the receivers sit in the cells that hold them.
    distance = (int(1.75 / h) - int(1.25 / h)) * h
    for trace, r in ((traces[0], 0.0), (traces[1], distance)):
        tau = times - r / c - 1 / peak
        exact = np.where(times > r / c, c / 2 * tau * np.exp(-(np.pi * peak * tau) ** 2), 0)
        assert np.max(np.abs(trace - exact)) < 0.002 * np.max(np.abs(exact)), r


def test_a_sponge_absorbs_what_a_wall_reflects(tmp_path):
    peaks = {}
    for sponge in (0, 12):
        out = tmp_path / f"s{sponge}"
        parameters = f'initial = "gaussian"\nwidth = 0.04\nsponge = {sponge}'
        write_config(tmp_path / f"{sponge}.toml", [80, 70], out, model="wave", extra_model=parameters,
                     end_time=1.5, every=50, periodic=[False, False])
        result = run_tessera(["run", tmp_path / f"{sponge}.toml"], ranks=2)
        assert result.returncode == 0, result.stderr
        with h5py.File(out / "results.hdf5", "r") as f:
            pressure = f["t0_fields/pressure"][0]
        peaks[sponge] = np.max(np.abs(pressure[-1])) / np.max(np.abs(pressure[0]))
    # By t = 1.5 the pulse has crossed the unit box: walls keep it, a sponge removes it.
    assert peaks[0] > 0.05 and peaks[12] < 0.1 * peaks[0], peaks


def test_the_well_loader_reads_scalar_and_vector_fields_and_the_totals_together(tmp_path):
    the_well = pytest.importorskip("the_well.data")
    out = tmp_path / "out"
    config = config_for(tmp_path / "c.toml", out, [16, 12], "euler", 'initial = "kelvin_helmholtz"', steps=20, every=2)
    result = run_tessera(["run", config], ranks=2)
    assert result.returncode == 0, result.stderr
    dataset = the_well.WellDataset(path=str(out), n_steps_input=2, n_steps_output=1, use_normalization=False)
    metadata = dataset.metadata
    assert metadata.field_names[0] == ["density", "energy"]
    assert metadata.field_names[1] == ["momentum_x", "momentum_y"]
    sample = dataset[3]
    # Channels: the t0 fields, then each vector's components.
    assert tuple(sample["input_fields"].shape) == (2, 16, 12, 4)
    totals = ["total_density", "total_energy", "total_momentum_x", "total_momentum_y"]
    assert metadata.scalar_names == totals
    assert tuple(sample["input_scalars"].shape) == (2, 4)
    with h5py.File(out / "results.hdf5", "r") as f:
        momentum = f["t1_fields/momentum"][0, 3]
        density = f["t0_fields/density"][0, 3]
        series = f["scalars/total_energy"][0, 3:5]
    np.testing.assert_array_equal(sample["input_fields"][0, ..., 0].numpy(), density)
    np.testing.assert_array_equal(sample["input_fields"][0, ..., 3].numpy(), momentum[..., 1])
    np.testing.assert_array_equal(sample["input_scalars"][:, 1].numpy(), series)


def test_the_well_loader_reads_both_gray_scott_species_and_the_pattern_constants(tmp_path):
    the_well = pytest.importorskip("the_well.data")
    out = tmp_path / "out"
    config = config_for(tmp_path / "c.toml", out, [16, 12], "gray_scott", 'pattern = "worms"\nseeds = 3', steps=20,
                        every=2)
    result = run_tessera(["run", config], ranks=3)
    assert result.returncode == 0, result.stderr
    dataset = the_well.WellDataset(path=str(out), n_steps_input=2, n_steps_output=1, use_normalization=False)
    assert dataset.metadata.field_names[0] == ["A", "B"]
    assert dataset.metadata.constant_scalar_names == ["F", "k", "diffusivity_a", "diffusivity_b"]
    sample = dataset[0]
    assert tuple(sample["input_fields"].shape) == (2, 16, 12, 2)
    np.testing.assert_allclose(sample["constant_scalars"].numpy()[:2], [0.058, 0.065])
