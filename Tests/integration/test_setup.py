"""scripts/setup.sh as a site meets it: MPI and HDF5 under other pkg-config names (Spack's and
Cray's `hdf5.pc`), a serial HDF5 refused, and nothing installed with apt unless asked. Run
with TESSERA_SETUP_CHECK=1, which stops before the build."""

import os
import pathlib
import shutil
import subprocess

from conftest import ROOT

SYSTEM_PC = "/usr/lib/x86_64-linux-gnu/pkgconfig"


def setup(tmp_path, env=None, extra_packages=()):
    """Sources scripts/setup.sh in check mode; returns the result and the pkg-config names it
    hands Package.swift."""
    script = (f"EXTRA_PACKAGES=({' '.join(extra_packages)}); source scripts/setup.sh; "
              'echo "names: ${TESSERA_MPI_PC:-default} ${TESSERA_HDF5_PC:-default}"')
    environment = {key: value for key, value in os.environ.items()
                   if key not in ("TESSERA_MPI_PC", "TESSERA_HDF5_PC", "TESSERA_INSTALL_DEPS")}
    environment.update({"TESSERA_SETUP_CHECK": "1", "TESSERA_MPI": "openmpi"}, **(env or {}))
    return subprocess.run(["bash", "-c", script], cwd=ROOT, env=environment, capture_output=True, text=True,
                          timeout=60)


def spack_like(tmp_path, parallel=True):
    """A pkg-config folder holding only ompi.pc and hdf5.pc, as a Spack or Cray environment
    has; a serial hdf5.pc points at an H5pubconf.h without H5_HAVE_PARALLEL."""
    folder = tmp_path / "pkgconfig"
    folder.mkdir()
    shutil.copy(f"{SYSTEM_PC}/ompi.pc", folder / "ompi.pc")
    text = open(f"{SYSTEM_PC}/hdf5-openmpi.pc").read()
    if not parallel:
        include = tmp_path / "serial-include"
        include.mkdir()
        (include / "H5pubconf.h").write_text("#define H5_HAVE_STDLIB_H 1\n")
        text = text.replace("-I/usr/include/hdf5/openmpi", f"-I{include}")
    (folder / "hdf5.pc").write_text(text)
    return str(folder)


def test_a_parallel_hdf5_pc_is_found_or_named(tmp_path):
    folder = spack_like(tmp_path)
    found = setup(tmp_path, {"PKG_CONFIG_LIBDIR": folder, "PKG_CONFIG_PATH": ""})
    assert found.returncode == 0, found.stderr
    assert "parallel HDF5 from 'hdf5'" in found.stdout and "names: default hdf5" in found.stdout, found.stdout
    named = setup(tmp_path, {"PKG_CONFIG_LIBDIR": folder, "PKG_CONFIG_PATH": "", "TESSERA_HDF5_PC": "hdf5",
                             "TESSERA_MPI_PC": "ompi"})
    assert named.returncode == 0 and "names: default hdf5" in named.stdout, named.stdout + named.stderr
    # Debian's own names need nothing exported.
    plain = setup(tmp_path)
    assert plain.returncode == 0 and "names: default default" in plain.stdout, plain.stdout + plain.stderr


def test_a_serial_hdf5_or_a_missing_package_is_said_exactly(tmp_path):
    folder = spack_like(tmp_path, parallel=False)
    env = {"PKG_CONFIG_LIBDIR": folder, "PKG_CONFIG_PATH": ""}
    unnamed = setup(tmp_path, env)
    assert unnamed.returncode == 1
    assert "pkg-config cannot find 'hdf5-openmpi'" in unnamed.stderr and "TESSERA_HDF5_PC" in unnamed.stderr
    serial = setup(tmp_path, env | {"TESSERA_HDF5_PC": "hdf5"})
    assert serial.returncode == 1 and "'hdf5' is an HDF5 built without MPI" in serial.stderr, serial.stderr
    wrong = setup(tmp_path, {"TESSERA_MPI_PC": "no-such-mpi"})
    assert wrong.returncode == 1 and "pkg-config cannot find 'no-such-mpi'" in wrong.stderr, wrong.stderr


def test_an_hdf5_pc_of_another_mpi_is_not_taken(tmp_path):
    """Debian's hdf5.pc is an alternatives link, here to Open MPI's HDF5 (it requires ompi): a
    build for MPICH must not link it."""
    folder = pathlib.Path(spack_like(tmp_path))
    (folder / "mpich.pc").write_text("Name: mpich\nDescription: MPICH\nVersion: 4.0\nCflags: -I/nonexistent\n")
    other = setup(tmp_path, {"PKG_CONFIG_LIBDIR": str(folder), "PKG_CONFIG_PATH": "", "TESSERA_MPI": "mpich",
                             "TESSERA_INSTALL_DEPS": "0"})
    assert other.returncode == 1 and "parallel HDF5 from 'hdf5'" not in other.stdout, other.stdout
    assert "hdf5-mpich" in other.stderr, other.stderr


def test_nothing_is_installed_unless_asked(tmp_path):
    """A fake apt-get first on PATH records what it is asked to do."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    calls = tmp_path / "apt-calls"
    (bin_dir / "apt-get").write_text(f'#!/bin/sh\necho "$@" >> {calls}\n')
    (bin_dir / "apt-get").chmod(0o755)
    env = {"PATH": f"{bin_dir}:{os.environ['PATH']}"}
    quiet = setup(tmp_path, env, extra_packages=["tessera-no-such-package"])
    assert quiet.returncode == 0, quiet.stderr
    assert "not installed: tessera-no-such-package (TESSERA_INSTALL_DEPS=1" in quiet.stdout, quiet.stdout
    assert not calls.exists()
    asked = setup(tmp_path, env | {"TESSERA_INSTALL_DEPS": "1"}, extra_packages=["tessera-no-such-package"])
    assert asked.returncode == 0, asked.stderr
    assert "install -y -qq tessera-no-such-package" in calls.read_text()


def test_the_build_folder_is_named_after_the_mpi_the_cpu_and_a_static_runtime(tmp_path):
    """SwiftPM reuses objects compiled with other flags in the same folder (a changed
    TESSERA_TARGET_CPU regenerates its build plan but recompiles nothing), so each choice
    that changes the compiled code builds in a folder of its own."""
    def folder(**env):
        result = setup(tmp_path, env)
        assert result.returncode == 0, result.stderr
        return result.stdout.split("would build in ")[1].split()[0]

    assert folder(TESSERA_TARGET_CPU="native") == ".build"
    assert folder(TESSERA_TARGET_CPU="znver3") == ".build-cpu-znver3"
    assert folder(TESSERA_TARGET_CPU="") == ".build-cpu-baseline"
    assert folder(TESSERA_TARGET_CPU="native", STATIC_SWIFT="1") == ".build-static"
    assert folder(TESSERA_TARGET_CPU="x86-64-v3", STATIC_SWIFT="1") == ".build-cpu-x86-64-v3-static"
    if shutil.which("mpicc.mpich") or os.path.exists(f"{SYSTEM_PC}/mpich.pc"):
        assert folder(TESSERA_TARGET_CPU="native", TESSERA_MPI="mpich") == ".build-mpich"


def test_a_folder_built_against_another_mpi_or_hdf5_is_cleaned_first(tmp_path):
    scratch = ROOT / ".build-cpu-stamp-test"
    scratch.mkdir(exist_ok=True)
    try:
        def pc(*args):
            return subprocess.run(["pkg-config", *args], capture_output=True, text=True, check=True).stdout.rstrip("\n")

        current = (f"ompi {pc('--modversion', 'ompi')}\nhdf5-openmpi {pc('--modversion', 'hdf5-openmpi')}\n"
                   f"{pc('--cflags', '--libs', 'ompi', 'hdf5-openmpi')}\n")
        stamp = scratch / "tessera-configuration.txt"
        env = {"TESSERA_TARGET_CPU": "stamp-test"}
        stamp.write_text(current)
        same = setup(tmp_path, env)
        assert "would build in .build-cpu-stamp-test\n" in same.stdout, same.stdout + same.stderr
        stamp.write_text(current.replace("ompi ", "ompi 3.1.6-other ", 1))
        other = setup(tmp_path, env)
        assert "(cleaned first: its MPI or HDF5 changed)" in other.stdout, other.stdout + other.stderr
    finally:
        shutil.rmtree(scratch)
