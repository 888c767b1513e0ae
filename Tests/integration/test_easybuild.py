"""The EasyBuild easyconfigs in packaging/easybuild/, with real EasyBuild 5 (from PyPI, in
the test environment) and the Lmod the tests already install.

`eb --dry-run --robot` resolves the gompi easyconfig's whole dependency tree from
EasyBuild's own easyconfigs; `eb -x` (the extended dry run) shows what each would run. The
full build of the system-toolchain easyconfig (from a `scripts/dist` tarball, against
Debian's Open MPI and HDF5, then its module loaded by Lmod) takes about four minutes on
two cores, so it runs when TESSERA_TEST_EASYBUILD_BUILD=1 and not in CI's default run.
"""

import os
import pathlib
import shutil
import subprocess
import sys

import pytest

from conftest import ROOT

EASYCONFIGS = ROOT / "packaging" / "easybuild"
LMOD_INIT = pathlib.Path("/usr/share/lmod/lmod/init/bash")
VENV_BIN = pathlib.Path(sys.executable).parent
EB = VENV_BIN / "eb"

pytestmark = [
    pytest.mark.skipif(not EB.exists(), reason="EasyBuild is not installed in the test environment"),
    pytest.mark.skipif(not LMOD_INIT.exists(), reason="Lmod is not installed (scripts/test installs it as root)"),
]


def eb(tmp_path, *args, timeout=300):
    """Runs eb with Lmod initialised, everything under tmp_path."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("EASYBUILD_", "TESSERA_"))}
    env["PATH"] = f"{VENV_BIN}:{env['PATH']}"
    env["TESSERA_TARGET_CPU"] = "native"
    options = ["--allow-use-as-root-and-accept-consequences", f"--prefix={tmp_path / 'eb'}",
               f"--sourcepath={tmp_path / 'sources'}", f"--tmp-logdir={tmp_path / 'logs'}"]
    # The log in a folder of its own: under the default, the extended dry run of a toolchain
    # with RPATH wrappers removes the folder that holds its log, then fails to remove the log.
    (tmp_path / "logs").mkdir(exist_ok=True)
    command = f"source {LMOD_INIT} && eb {' '.join(options + [str(a) for a in args])}"
    return subprocess.run(["bash", "-c", command], capture_output=True, text=True, timeout=timeout, env=env)


def test_both_easyconfigs_are_named_as_easybuild_expects():
    names = sorted(path.name for path in EASYCONFIGS.glob("*.eb"))
    assert names == ["Tessera-0.1.0-gompi-2023b.eb", "Tessera-0.1.0.eb"]


def test_the_gompi_easyconfig_resolves_its_whole_dependency_tree(tmp_path):
    result = eb(tmp_path, "--dry-run", "--robot", EASYCONFIGS / "Tessera-0.1.0-gompi-2023b.eb")
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    for module in ("HDF5/1.14.3-gompi-2023b", "OpenMPI/4.1.6-GCC-13.2.0", "pkgconf/2.0.3-GCCcore-13.2.0",
                   "Tessera/0.1.0-gompi-2023b"):
        assert f"(module: {module})" in output, module


@pytest.mark.parametrize("easyconfig", ["Tessera-0.1.0-gompi-2023b.eb", "Tessera-0.1.0.eb"])
def test_the_extended_dry_run_builds_with_install_sh_and_checks_the_binary(tmp_path, easyconfig):
    (tmp_path / "sources" / "t" / "Tessera").mkdir(parents=True)
    (tmp_path / "sources" / "t" / "Tessera" / "tessera-0.1.0.tar.gz").write_bytes(b"")
    result = eb(tmp_path, "-x", EASYCONFIGS / easyconfig)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "bash scripts/install.sh" in output and "tessera --version" in output, output
    if "gompi" in easyconfig:
        assert "module load HDF5/1.14.3-gompi-2023b [SIMULATED]" in output
        assert "module load swift [SIMULATED]" in output
        assert "TESSERA_MPI_PC=ompi TESSERA_HDF5_PC=hdf5" in output


@pytest.mark.skipif(os.environ.get("TESSERA_TEST_EASYBUILD_BUILD") != "1",
                    reason="the full eb build takes minutes: TESSERA_TEST_EASYBUILD_BUILD=1 runs it")
def test_eb_builds_installs_and_the_module_runs_tessera(tmp_path):
    sources = tmp_path / "sources" / "t" / "Tessera"
    sources.mkdir(parents=True)
    made = subprocess.run([str(ROOT / "scripts" / "dist"), str(tmp_path / "dist")], capture_output=True, text=True,
                          timeout=600)
    assert made.returncode == 0, made.stderr
    shutil.copy(made.stdout.strip().splitlines()[-1], sources / "tessera-0.1.0.tar.gz")
    result = eb(tmp_path, EASYCONFIGS / "Tessera-0.1.0.eb", timeout=1800)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    modules = tmp_path / "eb" / "modules" / "all"
    run = subprocess.run(["bash", "-c", f"source {LMOD_INIT} && module use {modules} && module load Tessera/0.1.0 "
                          "&& tessera --version && echo home=$TESSERA_HOME && man -w tessera"],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.startswith("0.1.0+")
    assert f"home={tmp_path / 'eb' / 'software' / 'Tessera' / '0.1.0'}" in run.stdout
