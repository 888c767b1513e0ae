"""The Spack recipe (packaging/spack, a Spack package repository) against a minimal stand-in
for Spack's package API: Spack cannot be installed here. The stand-in records the recipe's
directives and gives it a spec, a build environment and a `bash` that records its call, so
the tests check what the recipe declares, the environment it builds with for each variant
and provider, and that its build is scripts/install.sh, which scripts/setup.sh (in check
mode, against a Spack-like pkg-config folder) accepts with that environment."""

import importlib.util
import os
import subprocess
import sys
import types

import pytest

from conftest import ROOT
from test_setup import spack_like

REPO = ROOT / "packaging" / "spack"
RECIPE = REPO / "packages" / "tessera" / "package.py"


class InstallError(Exception):
    pass


class Recorder:
    """An executable that records its calls instead of running."""

    def __init__(self, name, calls):
        self.name, self.calls = name, calls

    def __call__(self, *args, **kwargs):
        self.calls.append((self.name, [str(a) for a in args]))
        return "0.1.0+1a2b3c4d5e6f\n" if kwargs.get("output") is str else None


def load_recipe():
    """Imports package.py with `spack.package` stood in for; returns the recipe's module, its
    directives in order and the calls its executables made."""
    directives, calls = [], []
    api = types.ModuleType("spack.package")

    def directive(name):
        return lambda *args, **kwargs: directives.append((name, args, kwargs))

    names = ["version", "variant", "depends_on", "conflicts", "requires", "license", "maintainers"]
    for name in names:
        setattr(api, name, directive(name))
    api.Package = type("Package", (), {})
    api.InstallError = InstallError
    api.run_after = lambda phase: (lambda method: method)
    api.which = lambda name: Recorder(name, calls)
    api.Executable = lambda path: Recorder(path, calls)
    api.join_path = os.path.join
    api.__all__ = names + ["Package", "InstallError", "run_after", "which", "Executable", "join_path"]
    spack = types.ModuleType("spack")
    spack.package = api
    saved = {name: sys.modules.get(name) for name in ("spack", "spack.package")}
    sys.modules.update({"spack": spack, "spack.package": api})
    try:
        spec = importlib.util.spec_from_file_location("tessera_recipe", RECIPE)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        for name, value in saved.items():
            if value is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = value
    return module, directives, calls


class Spec:
    """What the recipe reads of a concrete spec."""

    def __init__(self, mpi="openmpi", cpu="spec", static_swift=True, provider="openmpi",
                 flags="-march=znver3 -mtune=znver3"):
        self.variants = {name: types.SimpleNamespace(value=value)
                         for name, value in (("mpi", mpi), ("cpu", cpu), ("static_swift", static_swift))}
        self.provider, self.version = provider, "0.1.0"
        self.target = types.SimpleNamespace(optimization_flags=lambda compiler, version: flags)

    def __getitem__(self, name):
        assert name == "mpi"
        return types.SimpleNamespace(name=self.provider)

    def satisfies(self, text):
        assert text in ("+static_swift", "~static_swift")
        return self.variants["static_swift"].value == (text[0] == "+")


class Environment:
    def __init__(self):
        self.values = {}

    def set(self, name, value):
        self.values[name] = str(value)


def build_environment(**spec):
    module, _, _ = load_recipe()
    recipe = module.Tessera()
    recipe.spec = Spec(**spec)
    env = Environment()
    recipe.setup_build_environment(env)
    return env.values


def test_the_repository_is_a_spack_repository():
    assert "namespace: tessera" in (REPO / "repo.yaml").read_text()
    assert RECIPE.exists()


def test_the_recipe_declares_its_versions_variants_and_dependencies():
    _, directives, _ = load_recipe()
    of = lambda kind: [(args, kwargs) for name, args, kwargs in directives if name == kind]  # noqa: E731
    assert [args[0] for args, _ in of("version")] == ["0.1.0"]
    variants = {args[0]: kwargs for args, kwargs in of("variant")}
    assert variants["mpi"]["default"] == "openmpi" and set(variants["mpi"]["values"]) == {"openmpi", "mpich"}
    assert variants["cpu"]["default"] == "spec" and set(variants["cpu"]["values"]) == {"spec", "native", "baseline"}
    assert variants["static_swift"]["default"] is True
    dependencies = {args[0]: kwargs for args, kwargs in of("depends_on")}
    assert "mpi" in dependencies and "hdf5+mpi" in dependencies
    assert dependencies["pkgconfig"] == {"type": "build"}
    assert (("^openmpi",), "mpi=openmpi") in [(args, kwargs["when"]) for args, kwargs in of("requires")]
    assert (("^openmpi",), "mpi=mpich") in [(args, kwargs["when"]) for args, kwargs in of("conflicts")]
    assert [args[0] for args, _ in of("license")] == ["Apache-2.0"]


@pytest.mark.parametrize("spec, expected", [
    ({}, {"TESSERA_MPI": "openmpi", "TESSERA_MPI_PC": "ompi", "TESSERA_TARGET_CPU": "znver3",
          "TESSERA_STATIC_SWIFT": "1"}),
    ({"mpi": "mpich", "provider": "cray-mpich", "cpu": "native", "static_swift": False},
     {"TESSERA_MPI": "mpich", "TESSERA_MPI_PC": "mpich", "TESSERA_TARGET_CPU": "native",
      "TESSERA_STATIC_SWIFT": "0"}),
    ({"mpi": "mpich", "provider": "intel-oneapi-mpi", "cpu": "baseline"},
     {"TESSERA_MPI_PC": "impi", "TESSERA_TARGET_CPU": ""}),
    ({"flags": "-mcpu=neoverse-v1"}, {"TESSERA_TARGET_CPU": "neoverse-v1"}),
    ({"flags": "-march=armv8.2-a+crypto"}, {"TESSERA_TARGET_CPU": ""}),
    ({"flags": "-march=x86-64-v3"}, {"TESSERA_TARGET_CPU": "x86-64-v3"}),
    ({"flags": "-march=icelake-server -mtune=icelake-server"}, {"TESSERA_TARGET_CPU": "icelake-server"}),
])
def test_each_variant_and_provider_sets_the_build_environment(spec, expected):
    values = build_environment(**spec)
    for name, value in expected.items():
        assert values[name] == value, name
    assert values["TESSERA_HDF5_PC"] == "hdf5" and values["TESSERA_INSTALL_DEPS"] == "0"
    assert values["TESSERA_MPI_MODULE"] == "" and values["TESSERA_HDF5_MODULE"] == ""


def test_an_mpi_without_a_known_pkg_config_name_is_an_error_that_names_it():
    with pytest.raises(InstallError, match="'fujitsu-mpi'"):
        build_environment(mpi="mpich", provider="fujitsu-mpi")


def test_the_build_is_install_sh_which_setup_accepts_in_that_environment(tmp_path):
    module, _, calls = load_recipe()
    recipe = module.Tessera()
    recipe.spec = Spec()
    recipe.prefix = types.SimpleNamespace(bin=str(tmp_path / "bin"))
    recipe.install(recipe.spec, str(tmp_path))
    recipe.check_version()
    assert calls == [("bash", ["scripts/install.sh", str(tmp_path)]),
                     (str(tmp_path / "bin" / "tessera"), ["--version"])]
    # What install.sh sources first, with the recipe's environment and a Spack-like
    # pkg-config folder (ompi.pc and a parallel hdf5.pc only).
    env = {key: value for key, value in os.environ.items() if not key.startswith("TESSERA_")}
    env.update(build_environment(), PKG_CONFIG_LIBDIR=spack_like(tmp_path), PKG_CONFIG_PATH="",
               TESSERA_SETUP_CHECK="1", STATIC_SWIFT="1")
    result = subprocess.run(["bash", "-c", "source scripts/setup.sh"], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "MPI from pkg-config 'ompi', parallel HDF5 from 'hdf5'" in result.stdout
    assert "would build in .build-cpu-znver3-static" in result.stdout
    text = (ROOT / "scripts" / "install.sh").read_text()
    assert 'TESSERA_STATIC_SWIFT:-1}" = 0' in text and 'source "$(dirname "$0")/setup.sh"' in text
