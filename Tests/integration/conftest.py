"""Helpers for tests that run the real `tessera` binary, under mpirun where ranks matter.

The binary is the release build (TESSERA_BIN overrides). mpirun runs oversubscribed, so
these tests pass on a 2-core machine at 3 and 4 ranks; every call has a timeout, so a hang
fails the test instead of stalling the suite.
"""

import os
import pathlib
import subprocess
import time

import h5py
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
BINARY = pathlib.Path(os.environ.get("TESSERA_BIN", ROOT / ".build" / "release" / "tessera"))
MPIRUN = os.environ.get("MPIRUN", "mpirun")
# The MPI the binary was built with (scripts/test runs the multi-rank tests for each).
MPI = os.environ.get("TESSERA_MPI", "openmpi")
# scripts/test runs the multi-rank tests under Open MPI, then again under MPICH. A test whose
# first part depends on the MPI (how a job ends, stops or is killed) and whose long second part
# does not (a restart run to the end and compared with a straight run) skips the second part in
# the MPICH pass: the Open MPI pass has checked it on the same code.
RESTARTS_CHECKED_UNDER_OPEN_MPI = MPI != "openmpi"
LAUNCHED_BY = {"openmpi": "launched by mpirun (Open MPI)", "mpich": "launched by mpiexec (Hydra)"}[MPI]

MPI_ENV = {
    "OMPI_ALLOW_RUN_AS_ROOT": "1",
    "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1",
    "OMPI_MCA_rmaps_base_oversubscribe": "1",
    "OMPI_MCA_mpi_yield_when_idle": "1",
}


def environment():
    env = dict(os.environ)
    env.update(MPI_ENV)
    return env


def run_tessera(args, ranks=None, timeout=120, cwd=None):
    """Runs tessera (under mpirun with `ranks` ranks, or as one plain process when None)."""
    command = [str(BINARY), *map(str, args)]
    if ranks is not None:
        command = [MPIRUN, "-n", str(ranks), *command]
    return subprocess.run(
        command, capture_output=True, text=True, timeout=timeout, env=environment(), cwd=cwd
    )


def assert_each_fails_clearly(tmp_path, command, cases, ranks):
    """Runs `tessera COMMAND CONFIG` for each case (name: (config text, message)): every rank
    must exit 1 within 30 seconds, with one error line that says `message`."""
    for name, (text, message) in cases.items():
        config = tmp_path / f"{name}.toml"
        config.write_text(text)
        started = time.monotonic()
        result = run_tessera([command, config], ranks=ranks, timeout=60)
        assert result.returncode == 1, f"{name}: {result.stdout}{result.stderr}"
        assert message in result.stderr, f"{name}: {result.stderr}"
        assert result.stderr.count("tessera: error:") == 1, name
        assert time.monotonic() - started < 30, name


def write_config(path, shape, output, model="heat", steps=None, end_time=None, every=1, periodic=None,
                 extra_model="", extra="", boundary="", checkpoint=""):
    """Writes a tessera TOML config and returns its path. `extra_model`, `boundary` and
    `checkpoint` are lines for those sections."""
    lines = ["[grid]", f"shape = {list(shape)}"]
    if periodic is not None:
        lines.append("periodic = [" + ", ".join("true" if p else "false" for p in periodic) + "]")
    lines += [extra, "[model]", f'name = "{model}"', extra_model, "[time]"]
    lines.append(f"steps = {steps}" if steps is not None else f"end_time = {end_time}")
    lines += ["[output]", f'dir = "{output}"', f"every = {every}"]
    if boundary:
        lines += ["[boundary]", boundary]
    if checkpoint:
        lines += ["[checkpoint]", checkpoint]
    path.write_text("\n".join(lines) + "\n")
    return path


def datasets(path, groups=("t0_fields", "t1_fields", "t2_fields", "scalars", "receivers", "fields")):
    """Every dataset under `groups` of an HDF5 file, by path, as arrays."""
    found = {}
    with h5py.File(path, "r") as f:
        for group in groups:
            if group in f:
                for name, item in f[group].items():
                    found[f"{group}/{name}"] = item[...]
    return found


def assert_same_as_gold(gold, out, steps):
    """The results (every field and scalar, and the times) and the final checkpoint of run
    `out` are bitwise those of run `gold`."""
    for name in ("results.hdf5", f"checkpoints/checkpoint-{steps:010d}.hdf5"):
        expected, got = datasets(gold / name), datasets(out / name)
        assert expected and sorted(expected) == sorted(got), name
        for key in expected:
            assert expected[key].shape == got[key].shape, f"{name}: {key}"
            assert expected[key].tobytes() == got[key].tobytes(), f"{name}: {key} differs"
    with h5py.File(gold / "results.hdf5", "r") as a, h5py.File(out / "results.hdf5", "r") as b:
        assert a["dimensions/time"][...].tobytes() == b["dimensions/time"][...].tobytes()
    final = f"checkpoints/checkpoint-{steps:010d}.hdf5"
    with h5py.File(gold / final, "r") as a, h5py.File(out / final, "r") as b:
        assert a.attrs["time"] == b.attrs["time"] and a.attrs["step"] == b.attrs["step"] == steps


@pytest.fixture(scope="session", autouse=True)
def binary_exists():
    if not BINARY.exists():
        pytest.fail(f"{BINARY} is missing: build with `swift build -c release` first")


def assert_paraview_shows(results, fields=None):
    """Opens the ParaView description beside `results` (`results.vtkhdf`) with VTK's own
    reader, the one ParaView uses, and checks every frame: the image's bounds are the
    grid's extent, and every cell's value at its position in physical space is the value
    the results file holds for the cell at that position (so the picture is neither
    transposed nor mirrored), vectors as one 3-component array in axis order."""
    vtk = pytest.importorskip("vtkmodules.all")
    from vtkmodules.util.numpy_support import vtk_to_numpy
    import numpy as np

    description = pathlib.Path(results).with_suffix(".vtkhdf")
    with h5py.File(results, "r") as f:
        times = f["dimensions/time"][...]
        axes = [a for a in ("x", "y", "z") if a in f["dimensions"]]
        centres = [f["dimensions"][a][...] for a in axes]
        stored = {name: (order, f[f"t{order}_fields"][name][0]) for order in range(3)
                  for name in f[f"t{order}_fields"]}
    if fields is not None:
        assert sorted(stored) == sorted(fields)
    spacing = [2 * c[0] for c in centres]
    reader = vtk.vtkHDFReader()
    reader.SetFileName(str(description))
    reader.UpdateInformation()
    assert reader.GetNumberOfSteps() == len(times)
    for frame, time in enumerate(times):
        reader.UpdateTimeStep(time)
        image = reader.GetOutput()
        bounds = image.GetBounds()
        for axis, (c, h) in enumerate(zip(centres, spacing)):
            assert bounds[2 * axis] == pytest.approx(0, abs=1e-12)
            assert bounds[2 * axis + 1] == pytest.approx(len(c) * h), (axis, bounds)
        centre_filter = vtk.vtkCellCenters()
        centre_filter.SetInputData(image)
        centre_filter.Update()
        points = vtk_to_numpy(centre_filter.GetOutput().GetPoints().GetData())
        index = tuple(np.floor(points[:, a] / h).astype(int) for a, h in enumerate(spacing))
        # Each axis' spacing: the distinct cell centres along it are the file's.
        for a, c in enumerate(centres):
            assert np.allclose(np.unique(points[:, a].round(12)), c), a
        for name, (order, data) in stored.items():
            array = image.GetCellData().GetArray(name)
            assert array is not None, f"{description}: no array {name}"
            shown = vtk_to_numpy(array)
            expected = data[frame][index]
            if order == 0:
                assert shown.tobytes() == expected.tobytes(), name
            else:
                expected = expected.reshape(len(points), -1)
                d = len(axes)
                assert array.GetNumberOfComponents() == 3 ** order, name
                padded = np.zeros((len(points), 3 ** order), dtype=expected.dtype)
                for row in range(d if order == 2 else 1):
                    width = d
                    padded[:, 3 * row:3 * row + width] = expected[:, d * row:d * row + width]
                assert shown.tobytes() == padded.tobytes(), name
    return image
