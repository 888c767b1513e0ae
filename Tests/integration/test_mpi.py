"""The MPI is chosen at build time (TESSERA_MPI=openmpi or mpich): each build links its own
MPI and the parallel HDF5 built against it, and nothing of the other; and having both
installed leaves Debian's default MPI (the mpirun and mpicc alternatives) on Open MPI.
scripts/test runs the multi-rank tests once per build."""

import os
import pathlib
import shutil
import subprocess

import pytest

from conftest import BINARY, MPI

MPICH_BINARY = os.environ.get("TESSERA_MPICH_BIN", "")


def libraries(binary):
    return subprocess.run(["ldd", str(binary)], capture_output=True, text=True, check=True).stdout


def installed(package):
    result = subprocess.run(["dpkg-query", "-W", "-f=${Status}", package], capture_output=True, text=True)
    return "install ok installed" in result.stdout


@pytest.mark.skipif(MPI != "openmpi", reason="the binary under test is not the Open MPI build")
def test_the_open_mpi_build_links_open_mpi_only():
    linked = libraries(BINARY)
    assert "libmpi.so.40" in linked and "libhdf5_openmpi" in linked
    assert "libmpich" not in linked and "libhdf5_mpich" not in linked


@pytest.mark.skipif(not MPICH_BINARY, reason="no MPICH build (scripts/test makes one when it can)")
def test_the_mpich_build_links_mpich_only_and_exchanges_halos():
    linked = libraries(MPICH_BINARY)
    assert "libmpich.so" in linked and "libhdf5_mpich" in linked
    assert "libmpi.so.40" not in linked and "libhdf5_openmpi" not in linked
    result = subprocess.run(
        [os.environ.get("MPICH_MPIRUN", "mpirun.mpich"), "-n", "3", MPICH_BINARY, "check-halo", "--shape", "17,12,9"],
        capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "on 3 ranks" in result.stdout and " 0 wrong" in result.stdout


@pytest.mark.skipif(not (installed("mpich") and installed("openmpi-bin")), reason="needs both MPIs installed")
def test_installing_mpich_beside_open_mpi_keeps_open_mpi_the_default():
    assert pathlib.Path(shutil.which("mpirun")).resolve().name == "orterun"
    assert pathlib.Path(shutil.which("mpicc")).resolve().name == "opal_wrapper"
    for name, value in [("mpirun", "/usr/bin/mpirun.openmpi"), ("mpi", "/usr/bin/mpicc.openmpi")]:
        query = subprocess.run(["update-alternatives", "--query", name], capture_output=True, text=True).stdout
        assert f"Value: {value}" in query, query
    assert "Open MPI" in subprocess.run(["mpirun", "--version"], capture_output=True, text=True).stdout
    assert "HYDRA" in subprocess.run(["mpirun.mpich", "--version"], capture_output=True, text=True).stdout
