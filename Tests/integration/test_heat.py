"""The heat model through the real binary: the analytic sine solution at second order, and a
results file whose field bytes do not depend on how many ranks wrote it."""

import math
import pathlib

import h5py
import numpy as np
import pytest

from conftest import run_tessera, write_config

END_TIME = 0.05


def exact_sine(shape, periodic, time, diffusivity=1.0):
    """The exact solution for the sine initial condition with mode 1 on every axis."""
    axes = []
    decay = 0.0
    for n, wraps in zip(shape, periodic):
        k = (2 if wraps else 1) * math.pi
        axes.append(np.sin(k * (np.arange(n) + 0.5) / n))
        decay += k * k
    grid = np.ones(())
    for axis in axes:
        grid = np.multiply.outer(grid, axis)
    return grid * math.exp(-diffusivity * decay * time)


def test_heat_matches_the_sine_solution_at_second_order(tmp_path):
    errors = []
    sizes = [16, 32, 64]
    for n in sizes:
        # Write only the initial and the final frame: every = the number of steps tessera
        # will take (the fewest equal steps within cfl times the stable step 1/(2κΣ1/h²)).
        steps = math.ceil(END_TIME / (0.5 / (2 * 2 * n * n)))
        out = tmp_path / f"sine{n}"
        config = write_config(
            tmp_path / f"sine{n}.toml", [n, n], out, end_time=END_TIME, every=steps,
            periodic=[True, False], extra_model='modes = [1, 1]\ninitial = "sine"')
        result = run_tessera(["run", config, "--set", "time.cfl=0.5"], ranks=3)
        assert result.returncode == 0, result.stderr
        with h5py.File(out / "results.hdf5", "r") as f:
            assert f["dimensions/time"].shape == (2,)
            time = f["dimensions/time"][-1]
            assert time == pytest.approx(END_TIME, rel=1e-12)
            field = f["t0_fields/temperature"][0, -1].astype(np.float64)
        exact = exact_sine([n, n], [True, False], time)
        errors.append(math.sqrt(np.mean((field - exact) ** 2)))
    orders = [math.log2(a / b) for a, b in zip(errors, errors[1:])]
    assert errors[-1] < 1e-3, errors
    for order in orders:
        assert abs(order - 2) < 0.1, (orders, errors)


def run_case(tmp_path, ranks, shape, periodic, boundary, initial):
    out = tmp_path / f"r{ranks}"
    config = write_config(
        tmp_path / f"r{ranks}.toml", shape, out, steps=12, every=4, periodic=periodic,
        extra_model=f'initial = "{initial}"\ndiffusivity = 0.7', boundary=boundary)
    result = run_tessera(["run", config], ranks=ranks)
    assert result.returncode == 0, result.stderr
    return out / "results.hdf5"


@pytest.mark.parametrize(
    "shape,periodic,boundary,initial",
    [
        ([13, 11, 9], [True, False, True], 'condition = "dirichlet"\nvalue = 0.25', "gaussian"),
        ([29, 17], [False, False], 'condition = ["neumann", "dirichlet"]', "gaussian"),
        ([37], [True], "", "sine"),
    ],
)
def test_results_are_bitwise_identical_on_1_3_and_4_ranks(tmp_path, shape, periodic, boundary, initial):
    files = {r: run_case(tmp_path, r, shape, periodic, boundary, initial) for r in (1, 3, 4)}
    with h5py.File(files[1], "r") as reference:
        expected = reference["t0_fields/temperature"][...]
        times = reference["dimensions/time"][...]
        assert expected.shape == (1, 4, *shape)
        assert expected.dtype == np.float32
        assert not np.array_equal(expected[0, 0], expected[0, -1]), "the field must evolve"
        for ranks in (3, 4):
            with h5py.File(files[ranks], "r") as other:
                assert other["t0_fields/temperature"][...].tobytes() == expected.tobytes()
                assert other["dimensions/time"][...].tobytes() == times.tobytes()
                assert other.attrs["tessera_ranks"] == ranks


def test_results_file_follows_the_well_layout_and_records_provenance(tmp_path):
    path = run_case(tmp_path, 3, [12, 10, 8], [True, False, True], "", "gaussian")
    with h5py.File(path, "r") as f:
        assert f.attrs["dataset_name"] == "tessera_heat"
        assert f.attrs["grid_type"] == "cartesian"
        assert f.attrs["n_spatial_dims"] == 3
        assert f.attrs["n_trajectories"] == 1
        assert list(f.attrs["simulation_parameters"]) == ["diffusivity"]
        assert f.attrs["diffusivity"] == 0.7
        assert f.attrs["tessera_version"]
        assert "name = \"heat\"" in f.attrs["tessera_config"]
        assert list(f.attrs["tessera_process_grid"]) and np.prod(f.attrs["tessera_process_grid"]) == 3
        assert list(f["dimensions"].attrs["spatial_dims"]) == ["x", "y", "z"]
        assert f["dimensions/time"].shape == (4,)
        np.testing.assert_allclose(f["dimensions/x"][...], (np.arange(12) + 0.5) / 12)
        for group in ("t0_fields", "t1_fields", "t2_fields", "scalars", "boundary_conditions"):
            assert group in f
        temperature = f["t0_fields/temperature"]
        for name in ("sample_varying", "time_varying"):
            assert isinstance(temperature.attrs[name], np.bool_) and temperature.attrs[name]
        assert list(temperature.attrs["dim_varying"]) == [True, True, True]
        bc = f["boundary_conditions/y_dirichlet"]
        assert bc.attrs["bc_type"] == "WALL"
        assert bc["mask"].dtype == np.bool_
        assert list(bc["mask"][...]) == [True] + [False] * 8 + [True]
        assert f["boundary_conditions/x_periodic"].attrs["bc_type"] == "PERIODIC"
        assert f["scalars/diffusivity"][()] == 0.7
        assert isinstance(f.attrs["grid_type"], str)


def test_the_well_loader_reads_the_output_folder(tmp_path):
    the_well = pytest.importorskip("the_well.data")
    out = tmp_path / "r3"
    config = write_config(
        tmp_path / "well.toml", [16, 12], out, steps=20, every=2, periodic=[True, False],
        extra_model='initial = "gaussian"')
    result = run_tessera(["run", config], ranks=3)
    assert result.returncode == 0, result.stderr
    dataset = the_well.WellDataset(path=str(out), n_steps_input=2, n_steps_output=3, use_normalization=False)
    assert len(dataset) == 11 - 5 + 1
    sample = dataset[0]
    assert tuple(sample["input_fields"].shape) == (2, 16, 12, 1)
    assert tuple(sample["output_fields"].shape) == (3, 16, 12, 1)
    assert tuple(sample["constant_scalars"].shape) == (1,)
    assert tuple(sample["space_grid"].shape) == (16, 12, 2)
    assert tuple(sample["boundary_conditions"].shape) == (2, 2)
    with h5py.File(out / "results.hdf5", "r") as f:
        np.testing.assert_array_equal(sample["input_fields"][0, ..., 0].numpy(), f["t0_fields/temperature"][0, 0])


@pytest.mark.parametrize("ranks", [2, 4])
def test_the_example_runs_and_stays_close_to_its_exact_solution(tmp_path, ranks):
    example = pathlib.Path(__file__).resolve().parents[2] / "examples" / "heat.toml"
    result = run_tessera(["run", example, "--set", f"output.dir={tmp_path}"], ranks=ranks, timeout=120)
    assert result.returncode == 0, result.stderr
    with h5py.File(tmp_path / "results.hdf5", "r") as f:
        assert f["dimensions/time"][-1] == pytest.approx(2.0)
        shape = f["t0_fields/temperature"].shape[2:]
        field = f["t0_fields/temperature"][0, -1].astype(np.float64)
    exact = exact_sine(shape, [True] * 3, 2.0, diffusivity=0.01)
    # Second order at 64^3: the decay exponent 3κk²t = 2.4 is off by about (kh)²/12 = 8e-4 of
    # itself, so the amplitude is off by about 0.2 to 0.3 percent.
    assert np.max(np.abs(field - exact)) < 1e-2 * np.max(np.abs(exact))
