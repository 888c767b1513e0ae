"""The modulefiles, loaded by real Lmod and real Environment Modules.

scripts/install.sh installs Tessera and writes both modulefiles, with the MPI and HDF5
modules that were loaded when it ran. The site's MPI and HDF5 modules are stood in for by
two plain modulefiles that set a variable each. Lmod comes from Debian's package; the
Environment Modules package conflicts with it, so scripts/test unpacks that one into
.venv/environment-modules without installing it, and its modulecmd.tcl runs from there.
"""

import os
import pathlib
import subprocess

import pytest

from conftest import ROOT

LMOD_INIT = pathlib.Path("/usr/share/lmod/lmod/init/bash")
MODULECMD = pathlib.Path(os.environ.get(
    "TESSERA_MODULECMD", ROOT / ".venv" / "environment-modules" / "usr/lib/x86_64-linux-gnu/modulecmd.tcl"))
INIT = {
    "lmod": f"source {LMOD_INIT}",
    "environment-modules": f'eval "$(tclsh {MODULECMD} bash autoinit)"',
}
PRESENT = {"lmod": LMOD_INIT.exists(), "environment-modules": MODULECMD.exists()}
SITE = {"openmpi/4.1.4": "SITE_MPI", "hdf5/1.10.8": "SITE_HDF5"}
# Variables the module systems keep for their own bookkeeping.
BOOKKEEPING = ("_ModuleTable", "__LMOD", "LMOD_", "_LMFILES_", "LOADEDMODULES", "MODULES_", "__MODULES_")


def bash(script, cwd=None, timeout=120):
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": os.environ.get("HOME", "/root"), "LANG": "C.UTF-8"}
    for name in ("TESSERA_TARGET_CPU",):
        if name in os.environ:
            env[name] = os.environ[name]
    return subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=timeout, env=env,
                          cwd=cwd)


@pytest.fixture(scope="module")
def installation(tmp_path_factory):
    """Tessera installed as a site would, with the stand-in MPI and HDF5 modules loaded."""
    if not PRESENT["lmod"]:
        pytest.skip("Lmod is not installed (scripts/test installs it when run as root)")
    base = tmp_path_factory.mktemp("site")
    site, prefix, modules = base / "site-modules", base / "tessera" / "0.1.0", base / "modulefiles"
    for name, variable in SITE.items():
        path = site / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"#%Module1.0\nsetenv {variable} {name}\n")
    result = bash(f"""set -e
        {INIT['lmod']}
        module use {site}
        module load {' '.join(SITE)}
        bash scripts/install.sh {prefix} {modules}
        """, cwd=ROOT, timeout=1200)
    assert result.returncode == 0, result.stdout + result.stderr
    return site, prefix, modules


def test_install_records_the_mpi_and_hdf5_modules_it_was_built_with(installation):
    _, prefix, modules = installation
    lua = (modules / "tessera" / "0.1.0.lua").read_text()
    tcl = (modules / "tessera" / "0.1.0").read_text()
    assert f'local root = "{prefix}"' in lua and 'local mpi = "openmpi/4.1.4"' in lua
    assert 'local hdf5 = "hdf5/1.10.8"' in lua
    assert f"set root {{{prefix}}}" in tcl and 'set mpi "openmpi/4.1.4"' in tcl and 'set hdf5 "hdf5/1.10.8"' in tcl
    # The installed binary carries its own Swift runtime: compute nodes need no Swift.
    libraries = subprocess.run(["ldd", prefix / "bin" / "tessera"], capture_output=True, text=True).stdout
    assert "libswiftCore" not in libraries and "libmpi" in libraries


def environment_of(text):
    lines = (line.split("=", 1) for line in text.splitlines() if "=" in line)
    return {k: v for k, v in lines if not k.startswith(BOOKKEEPING)}


@pytest.mark.parametrize("system", ["lmod", "environment-modules"])
def test_module_load_runs_tessera_and_unload_restores_the_environment(installation, system, tmp_path):
    if not PRESENT[system]:
        pytest.skip(f"{system} is not available (scripts/test provides it when run as root)")
    site, prefix, modules = installation
    result = bash(f"""set -e
        {INIT[system]}
        module use {site} {modules}
        env > {tmp_path}/before
        module load tessera
        tessera --version
        echo "found $(command -v tessera) home=$TESSERA_HOME mpi=$SITE_MPI hdf5=$SITE_HDF5"
        module whatis tessera 2>&1
        module help tessera 2>&1
        # The man page and the completions are where the module says.
        echo "manpage=${{MANPATH%%:*}}/man1/tessera.1"
        for folder in ${{XDG_DATA_DIRS//:/ }}; do
            [ -f "$folder/bash-completion/completions/tessera" ] && source "$folder/bash-completion/completions/tessera"
        done
        complete -p tessera
        echo "zsh=${{FPATH%%:*}}/_tessera"
        module unload tessera
        env > {tmp_path}/after
        """)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert result.stdout.splitlines()[0].startswith("0.1.0+")
    assert f"found {prefix}/bin/tessera home={prefix} mpi=openmpi/4.1.4 hdf5=hdf5/1.10.8" in output
    assert "Version: 0.1.0" in output and "tessera plan CONFIG --ranks N" in output
    page = pathlib.Path(result.stdout.split("manpage=")[1].split()[0])
    assert page == prefix / "share/man/man1/tessera.1"
    manual = page.read_text()
    assert ".Dt TESSERA 1" in manual and "validate" in manual and "log-level" in manual
    assert "-F _tessera tessera" in output, output
    zsh = pathlib.Path(result.stdout.split("zsh=")[1].split()[0])
    assert zsh.read_text().startswith("#compdef tessera")
    assert (prefix / "share/fish/vendor_completions.d/tessera.fish").read_text().strip()
    before = environment_of((tmp_path / "before").read_text())
    after = environment_of((tmp_path / "after").read_text())
    assert after == before, {k: (before.get(k), after.get(k)) for k in before.keys() | after.keys()
                             if before.get(k) != after.get(k)}


@pytest.mark.parametrize("system", ["lmod", "environment-modules"])
def test_both_modulefiles_in_the_repository_load_as_kept(system, tmp_path):
    """The files under Modulefiles/ as committed (Debian's packages, no MPI or HDF5 module)."""
    if not PRESENT[system]:
        pytest.skip(f"{system} is not available (scripts/test provides it when run as root)")
    result = bash(f"""set -e
        {INIT[system]}
        module use {ROOT / 'Modulefiles'}
        module load tessera/0.1.0
        echo "home=$TESSERA_HOME path=$PATH"
        module list 2>&1
        """)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "home=/opt/tessera/0.1.0 path=/opt/tessera/0.1.0/bin:" in result.stdout


def hierarchy(root):
    """A three-level Lmod tree as sites build it (Lmod's Core / Compiler / MPI convention):
    the compiler's module opens its level, the MPI's opens the MPI level, where HDF5 is."""
    levels = {
        "Core/gcc/12.lua": f'family("compiler")\nsetenv("SITE_CC", "gcc/12")\n'
                           f'prepend_path("MODULEPATH", "{root}/Compiler/gcc/12")\n',
        "Compiler/gcc/12/openmpi/4.1.4.lua": f'family("mpi")\nsetenv("SITE_MPI", "openmpi/4.1.4")\n'
                                             f'prepend_path("MODULEPATH", "{root}/MPI/gcc/12/openmpi/4.1.4")\n',
        "MPI/gcc/12/openmpi/4.1.4/hdf5/1.10.8.lua": 'setenv("SITE_HDF5", "hdf5/1.10.8")\n',
    }
    for path, text in levels.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text)
    return root


@pytest.fixture(scope="module")
def hierarchical(tmp_path_factory):
    """Tessera installed into a three-level tree, and once more as a flat module beside a
    second tree (a site has one or the other: where a flat tessera loads the MPI whose level
    holds a tessera of the same version, Lmod swaps one for the other without end), both
    built with the tree's compiler, MPI and HDF5 modules loaded."""
    if not PRESENT["lmod"]:
        pytest.skip("Lmod is not installed (scripts/test installs it when run as root)")
    base = tmp_path_factory.mktemp("hierarchy")
    root, other = hierarchy(base / "hierarchy"), hierarchy(base / "other")
    prefix, flat = base / "tessera" / "0.1.0", base / "flat"
    result = bash(f"""set -e
        {INIT['lmod']}
        module use {root}/Core
        module load gcc/12 openmpi/4.1.4 hdf5/1.10.8
        bash scripts/install.sh {prefix} {root}
        module purge
        module unuse {root}/Core
        module use {other}/Core
        module load gcc/12 openmpi/4.1.4 hdf5/1.10.8
        bash scripts/install.sh {prefix} {flat}
        """, cwd=ROOT, timeout=1200)
    assert result.returncode == 0, result.stdout + result.stderr
    return root, prefix, (other, flat), result.stdout


def test_in_a_hierarchy_tessera_sits_at_its_mpis_level_and_appears_when_that_is_loaded(hierarchical, tmp_path):
    root, prefix, _, log = hierarchical
    lua = root / "MPI/gcc/12/openmpi/4.1.4/tessera/0.1.0.lua"
    assert lua.exists(), log
    text = lua.read_text()
    assert 'local compiler = ""' in text and 'local mpi = ""' in text and 'local hdf5 = "hdf5/1.10.8"' in text
    assert not (root / "tessera").exists() and not (root / "Core" / "tessera").exists()
    result = bash(f"""set -e
        {INIT['lmod']}
        module use {root}/Core
        env > {tmp_path}/before
        if module load tessera 2>/dev/null; then echo "visible before its MPI"; fi
        module spider tessera/0.1.0 2>&1 | tr -s ' ' | grep -i 'gcc/12 openmpi/4.1.4' | head -n 1
        module load gcc/12 openmpi/4.1.4 tessera
        tessera --version
        echo "found $(command -v tessera) cc=$SITE_CC mpi=$SITE_MPI hdf5=$SITE_HDF5"
        module purge
        env > {tmp_path}/after
        """)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "visible before its MPI" not in output
    assert "gcc/12 openmpi/4.1.4" in result.stdout, output  # module spider says what to load
    assert f"found {prefix}/bin/tessera cc=gcc/12 mpi=openmpi/4.1.4 hdf5=hdf5/1.10.8" in output, output
    before = environment_of((tmp_path / "before").read_text())
    after = environment_of((tmp_path / "after").read_text())
    assert after == before, {k: (before.get(k), after.get(k)) for k in before.keys() | after.keys()
                             if before.get(k) != after.get(k)}


def test_a_flat_module_loads_the_whole_chain_from_a_clean_shell(hierarchical, tmp_path):
    _, prefix, (root, flat), _ = hierarchical
    text = (flat / "tessera" / "0.1.0.lua").read_text()
    assert 'local compiler = "gcc/12"' in text and 'local mpi = "openmpi/4.1.4"' in text
    result = bash(f"""set -e
        {INIT['lmod']}
        module use {root}/Core {flat}
        env > {tmp_path}/before
        module load tessera
        tessera --version
        echo "found $(command -v tessera) cc=$SITE_CC mpi=$SITE_MPI hdf5=$SITE_HDF5"
        module unload tessera
        env > {tmp_path}/after
        """)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert f"found {prefix}/bin/tessera cc=gcc/12 mpi=openmpi/4.1.4 hdf5=hdf5/1.10.8" in output, output
    before = environment_of((tmp_path / "before").read_text())
    after = environment_of((tmp_path / "after").read_text())
    assert after == before, {k: (before.get(k), after.get(k)) for k in before.keys() | after.keys()
                             if before.get(k) != after.get(k)}


def test_a_flat_install_beside_a_hierarchy_that_has_tessera_is_refused_before_building(hierarchical, tmp_path):
    """With the tree's MPI loaded its level, which holds a tessera, is on MODULEPATH: a flat
    tessera loading that MPI would make Lmod swap the two without end."""
    root, _, _, _ = hierarchical
    flat = tmp_path / "flat"
    result = bash(f"""set -e
        {INIT['lmod']}
        module use {root}/Core
        module load gcc/12 openmpi/4.1.4 hdf5/1.10.8
        bash scripts/install.sh {tmp_path / 'prefix'} {flat}
        """, cwd=ROOT, timeout=60)
    assert result.returncode == 1, result.stdout + result.stderr
    level = root / "MPI/gcc/12/openmpi/4.1.4"
    assert f"a tessera module is already on MODULEPATH at {level}/tessera" in result.stderr, result.stderr
    assert "without end" in result.stderr and f"module unuse {level}" in result.stderr, result.stderr
    assert not flat.exists() and not (tmp_path / "prefix").exists()
    # Installing into the hierarchy itself again passes the check: its own level's tessera is
    # the one it would replace (TESSERA_SETUP_CHECK=1 stops the set-up before the build).
    again = bash(f"""
        {INIT['lmod']}
        module use {root}/Core
        module load gcc/12 openmpi/4.1.4 hdf5/1.10.8
        TESSERA_SETUP_CHECK=1 bash scripts/install.sh {tmp_path / 'prefix'} {root}
        """, cwd=ROOT, timeout=60)
    assert "already on MODULEPATH" not in again.stderr, again.stderr
    assert "would build in" in again.stdout + again.stderr, again.stdout + again.stderr


def test_a_hierarchy_without_its_compiler_and_mpi_loaded_is_refused_before_building(tmp_path):
    root = hierarchy(tmp_path / "tree")
    result = bash(f"bash scripts/install.sh {tmp_path / 'prefix'} {root}", cwd=ROOT, timeout=30)
    assert result.returncode == 1
    assert "is a module hierarchy" in result.stderr and "TESSERA_COMPILER_MODULE" in result.stderr, result.stderr
    assert not (tmp_path / "prefix").exists()
