"""scripts/dist: a source tarball with every Swift dependency vendored, built where there is
no network. The build runs in a new network namespace (`unshare -n`: no interface but a
loopback that is down), with a HOME of its own (no SwiftPM caches) and git's configuration
cut off (this machine's mirror of GitHub is a git `insteadOf` rule), so any fetch fails."""

import os
import shutil
import subprocess
import tarfile

import pytest

from conftest import ROOT

PINNED = {"swift-argument-parser": "1.8.2", "swift-log": "1.16.2", "tomlkit": "0.6.0"}


def network_cut():
    """The command prefix that cuts the network, or None where namespaces are not allowed."""
    if shutil.which("unshare") and subprocess.run(["unshare", "-n", "true"], capture_output=True).returncode == 0:
        return ["unshare", "-n"]
    return None


@pytest.fixture(scope="module")
def tarball(tmp_path_factory):
    out = tmp_path_factory.mktemp("dist")
    result = subprocess.run([str(ROOT / "scripts" / "dist"), str(out)], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


def head():
    return subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                          check=True).stdout.strip()


def test_the_tarball_holds_the_tree_its_commit_and_the_pinned_dependencies(tarball):
    name = f"tessera-0.1.0+{head()}"
    assert os.path.basename(tarball) == f"{name}.tar.gz"
    with tarfile.open(tarball) as archive:
        names = set(archive.getnames())
        assert archive.extractfile(f"{name}/COMMIT").read().decode().strip() == head()
        resolved = archive.extractfile(f"{name}/vendor/Package.resolved").read().decode()
    for identity, version in PINNED.items():
        assert f"{name}/vendor/{identity}/Package.swift" in names, identity
        assert f'"version" : "{version}"' in resolved
    assert f"{name}/vendor/tomlkit/Sources/CTOML/include/toml.hpp" in names or any(
        n.startswith(f"{name}/vendor/tomlkit/Sources/CTOML/") and n.endswith(".hpp") for n in names)
    assert f"{name}/Package.swift" in names and f"{name}/Sources/tessera" in names
    assert f"{name}/Package.resolved" not in names
    assert not [n for n in names if "/.git/" in n or n.endswith("/.git")]
    assert not [n for n in names if "/.build" in n]


def test_the_tarball_builds_and_runs_with_no_network(tarball, tmp_path):
    cut = network_cut()
    if cut is None:
        pytest.skip("unshare -n is not allowed here, so the network cannot be cut")
    with tarfile.open(tarball) as archive:
        archive.extractall(tmp_path, filter="data")
    tree = next(tmp_path.glob("tessera-*"))
    home = tmp_path / "home"
    home.mkdir()
    env = {key: value for key, value in os.environ.items() if not key.startswith(("TESSERA_", "SWIFTPM", "GIT_"))}
    env.update(HOME=str(home), XDG_CACHE_HOME=str(home / ".cache"), GIT_CONFIG_NOSYSTEM="1",
               GIT_CONFIG_GLOBAL="/dev/null", TESSERA_INSTALL_DEPS="0", TESSERA_TARGET_CPU="native")
    # The same check first without the vendored sources: it must fail to fetch, or the cut
    # proves nothing.
    probe = tmp_path / "probe"
    shutil.copytree(tree, probe, ignore=shutil.ignore_patterns("vendor"))
    fetch = subprocess.run([*cut, "swift", "package", "resolve"], cwd=probe, env=env, capture_output=True, text=True,
                           timeout=300)
    assert fetch.returncode != 0, "resolving remote dependencies worked with the network cut"
    assert "Fetching https://github.com/" in fetch.stdout + fetch.stderr, fetch.stdout + fetch.stderr
    build = subprocess.run([*cut, "bash", "-c", 'source scripts/setup.sh && "$TESSERA" --version'], cwd=tree, env=env,
                           capture_output=True, text=True, timeout=900)
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
    assert build.stdout.strip().splitlines()[-1] == f"0.1.0+{head()}"
    binary = next(tree.glob(".build/*/release/tessera"))
    validate = subprocess.run([str(binary), "validate", str(tree / "examples" / "heat.toml")], capture_output=True,
                              text=True, timeout=60, cwd=tmp_path)
    assert validate.returncode == 0, validate.stderr
