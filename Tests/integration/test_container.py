"""The container recipes (packaging/Dockerfile, packaging/tessera.def). Neither Docker,
Apptainer nor a base image can be fetched here, so the tests check that both recipes run
packaging/container-build.sh for every step, and run that script on this Debian 12 machine
as the image build would: the build stage into a prefix of the test's own (its apt step,
then scripts/install.sh), then the runtime stage from the installation. The installed binary
runs a 2-rank job. What only an image build does (fetching Swift from swift.org into a bare
image) is not exercised here."""

import os
import re
import shutil
import subprocess

import h5py
import pytest

from conftest import MPI_ENV, MPIRUN, ROOT

PACKAGING = ROOT / "packaging"


def test_every_step_of_both_recipes_is_the_script():
    dockerfile = (PACKAGING / "Dockerfile").read_text()
    runs = re.findall(r"^RUN ((?:[^\n]*\\\n)*[^\n]*)", dockerfile, flags=re.MULTILINE)
    assert len(runs) == 2, runs
    assert "container-build.sh build /opt/tessera" in runs[0]
    assert "container-build.sh runtime" in runs[1]
    assert re.findall(r"^FROM (\S+)", dockerfile, flags=re.MULTILINE) == ["debian:12-slim", "debian:12-slim"]
    definition = (PACKAGING / "tessera.def").read_text()
    posts = re.findall(r"^%post\n((?:    .*\n)+)", definition, flags=re.MULTILINE)
    assert len(posts) == 2 and "container-build.sh build /opt/tessera" in posts[0]
    assert "container-build.sh runtime" in posts[1]
    assert definition.count("Bootstrap: docker") == 2 and "%files from build" in definition
    assert "{{ TESSERA_MPI }}" in definition and "TESSERA_MPI=openmpi" in definition


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("apt-get") is None,
                    reason="the build stage installs Debian packages: root and apt-get")
def test_the_build_and_runtime_stages_install_a_tessera_that_runs(tmp_path):
    prefix = tmp_path / "opt" / "tessera"
    env = {key: value for key, value in os.environ.items() if not key.startswith("TESSERA_")}
    # native: the static build the module tests make too, so the suite builds it once.
    env["TESSERA_TARGET_CPU"] = "native"
    build = subprocess.run(["bash", str(PACKAGING / "container-build.sh"), "build", str(prefix)], env=env,
                           capture_output=True, text=True, timeout=1500)
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
    assert "==> build packages: libopenmpi-dev openmpi-bin libhdf5-openmpi-dev pkg-config" in build.stdout
    installed = prefix / "share" / "tessera" / "container-build.sh"
    runtime = subprocess.run(["bash", str(installed), "runtime"], env=env, capture_output=True, text=True,
                             timeout=600)
    assert runtime.returncode == 0, runtime.stdout + runtime.stderr
    assert "==> runtime packages: openmpi-bin libopenmpi3 libhdf5-openmpi-103-1" in runtime.stdout
    binary = prefix / "bin" / "tessera"
    libraries = subprocess.run(["ldd", str(binary)], capture_output=True, text=True).stdout
    assert "libswiftCore" not in libraries and "libmpi.so" in libraries and "libhdf5_openmpi" in libraries
    config = tmp_path / "heat.toml"
    config.write_text(f"""[grid]
shape = [24, 20]
[model]
name = "heat"
[time]
steps = 10
[output]
dir = "{tmp_path / 'out'}"
every = 5
""")
    run = subprocess.run([MPIRUN, "-n", "2", str(binary), "run", str(config)], capture_output=True, text=True,
                         timeout=120, env={**os.environ, **MPI_ENV})
    assert run.returncode == 0, run.stderr
    with h5py.File(tmp_path / "out" / "results.hdf5") as results:
        assert results["dimensions"]["time"].shape == (3,)
        assert results.attrs["tessera_version"].startswith("0.1.0+")
