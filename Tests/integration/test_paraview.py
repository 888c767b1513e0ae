"""ParaView sees the results where they are: `results.vtkhdf`, opened with VTK's own
reader (the `vtk` wheel, what ParaView uses), puts every field of every model at its true
coordinates, with vectors as vectors, on grids that are anisotropic in both cell count and
cell size, however many ranks wrote them."""

import h5py
import numpy as np
import pytest

from conftest import assert_paraview_shows, run_tessera, write_config

pytest.importorskip("vtkmodules.all")


def centre_of_hottest(image, name):
    import vtkmodules.all as vtk
    from vtkmodules.util.numpy_support import vtk_to_numpy

    centres = vtk.vtkCellCenters()
    centres.SetInputData(image)
    centres.Update()
    points = vtk_to_numpy(centres.GetOutput().GetPoints().GetData())
    return points[np.argmax(vtk_to_numpy(image.GetCellData().GetArray(name)))]


@pytest.mark.parametrize("ranks", [1, 3])
def test_a_3d_feature_off_centre_lies_where_it_is(tmp_path, ranks):
    # 8 x 12 x 16 cells over [1, 2, 4]; the gaussian sits on a cell centre near a corner (periodic,
    # so that diffusion leaves its peak there).
    centre = [0.1875, 8.5 / 6, 2.875]
    config = write_config(
        tmp_path / "heat.toml", [8, 12, 16], tmp_path / "out", steps=4, every=2, periodic=[True] * 3,
        extra="extent = [1.0, 2.0, 4.0]",
        extra_model=f'diffusivity = 1e-4\ninitial = "gaussian"\nwidth = 0.15\ncentre = {centre}')
    result = run_tessera(["run", config], ranks=ranks)
    assert result.returncode == 0, result.stderr
    image = assert_paraview_shows(tmp_path / "out" / "results.hdf5", ["temperature"])
    assert image.GetBounds() == pytest.approx((0, 1, 0, 2, 0, 4))
    assert centre_of_hottest(image, "temperature") == pytest.approx(centre)


@pytest.mark.parametrize("ranks", [1, 3])
def test_a_2d_feature_and_a_vector_field_lie_where_they_are(tmp_path, ranks):
    centre = [1.35, 0.25]
    config = write_config(
        tmp_path / "heat.toml", [20, 30], tmp_path / "heat", steps=2, every=1, periodic=[True, True],
        extra="extent = [2.0, 1.0]",
        extra_model=f'diffusivity = 1e-4\ninitial = "gaussian"\nwidth = 0.1\ncentre = {centre}')
    assert run_tessera(["run", config], ranks=ranks).returncode == 0
    image = assert_paraview_shows(tmp_path / "heat" / "results.hdf5")
    assert image.GetBounds()[:4] == pytest.approx((0, 2, 0, 1))
    hottest = centre_of_hottest(image, "temperature")
    assert hottest[:2] == pytest.approx(centre)

    # Euler's momentum is one vector, the active one, in (x, y) order.
    config = write_config(
        tmp_path / "euler.toml", [20, 30], tmp_path / "euler", model="euler", steps=4, every=2,
        periodic=[False, False], extra="extent = [2.0, 1.0]", extra_model='initial = "quadrants"',
        boundary='condition = "neumann"')
    result = run_tessera(["run", config], ranks=ranks)
    assert result.returncode == 0, result.stderr
    image = assert_paraview_shows(tmp_path / "euler" / "results.hdf5", ["density", "energy", "momentum"])
    vectors = image.GetCellData().GetVectors()
    assert vectors is not None and vectors.GetName() == "momentum"


def test_a_1d_line_and_its_velocity_lie_along_x(tmp_path):
    config = write_config(
        tmp_path / "burgers.toml", [50], tmp_path / "out", model="burgers", steps=4, every=2,
        extra="extent = [3.0]")
    assert run_tessera(["run", config], ranks=2).returncode == 0
    image = assert_paraview_shows(tmp_path / "out" / "results.hdf5")
    assert image.GetBounds()[:2] == pytest.approx((0, 3))


def test_the_description_follows_the_results_through_a_restart(tmp_path):
    config = write_config(
        tmp_path / "heat.toml", [6, 10], tmp_path / "out", steps=6, every=1, extra="extent = [3.0, 1.0]",
        checkpoint="every = 3")
    first = run_tessera(["run", config, "--set", "time.steps=3"], ranks=2)
    assert first.returncode == 0, first.stderr
    resumed = run_tessera(["run", config, "--restart", "auto"], ranks=3)
    assert resumed.returncode == 0, resumed.stderr
    with h5py.File(tmp_path / "out" / "results.hdf5", "r") as f:
        assert f["dimensions/time"].shape == (7,)
    assert_paraview_shows(tmp_path / "out" / "results.hdf5")


def test_the_plot_script_draws_every_field_and_the_scalars(tmp_path):
    import subprocess
    import sys

    image = pytest.importorskip("matplotlib.image")
    from conftest import ROOT

    config = write_config(
        tmp_path / "euler.toml", [20, 30], tmp_path / "euler", model="euler", steps=4, every=2,
        periodic=[False, False], extra="extent = [2.0, 1.0]", extra_model='initial = "quadrants"')
    assert run_tessera(["run", config], ranks=3).returncode == 0
    config = write_config(
        tmp_path / "heat.toml", [8, 12, 16], tmp_path / "heat", steps=2, every=1,
        extra_model='initial = "gaussian"')
    assert run_tessera(["run", config], ranks=2).returncode == 0
    for folder, pictures in (("euler", ["density", "energy", "momentum", "scalars"]),
                             ("heat", ["temperature", "scalars"])):
        out = tmp_path / f"{folder}-plots"
        result = subprocess.run([sys.executable, ROOT / "scripts" / "plot.py", tmp_path / folder / "results.hdf5",
                                 "--out", out], capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr
        assert sorted(p.stem for p in out.glob("*.png")) == sorted(pictures)
        for picture in pictures:
            pixels = image.imread(out / f"{picture}.png")
            assert pixels.ndim == 3 and pixels.shape[0] > 100 and pixels.std() > 0.01, picture
    missing = subprocess.run([sys.executable, ROOT / "scripts" / "plot.py", tmp_path / "heat" / "results.hdf5",
                              "--frame", "9"], capture_output=True, text=True, timeout=120)
    assert missing.returncode != 0 and "holds 3 frames; there is no frame 9" in missing.stderr
