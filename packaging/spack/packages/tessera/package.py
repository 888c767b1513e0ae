# Spack recipe for Tessera, in a Spack package repository of its own:
#
#   spack repo add packaging/spack
#   spack mirror add tessera-src /path/to/mirror    # holding tessera/tessera-0.1.0.tar.gz
#   spack install tessera@0.1.0 mpi=openmpi cpu=spec ^openmpi ^hdf5+mpi
#
# There is no public release yet: put the tarball scripts/dist makes (every Swift package
# vendored, so the build needs no network) into a Spack source mirror as
# tessera/tessera-0.1.0.tar.gz, and install with --no-checksum until a release carries one.
# Swift 6 is not a Spack package: it must be on PATH (a loaded module) or at /opt/swift.
# The build is scripts/install.sh, the one every other way of installing Tessera runs.

import re

from spack.package import *


class Tessera(Package):
    """Domain-decomposed structured-grid simulations over MPI and parallel HDF5: heat,
    advection, Burgers, Gray-Scott, acoustic waves and compressible Euler, with exact adjoint
    gradients, restarts on any rank count, and results and training datasets in The Well's
    HDF5 layout."""

    homepage = "https://tessera.invalid/"  # unpublished: README.md in the tarball
    url = "https://tessera.invalid/releases/tessera-0.1.0.tar.gz"

    license("Apache-2.0")

    version("0.1.0")

    variant(
        "mpi",
        default="openmpi",
        values=("openmpi", "mpich"),
        description="The MPI family Tessera is compiled for: Open MPI, or MPICH and the MPIs "
        "that share its ABI (Cray MPICH, Intel MPI, MVAPICH)",
    )
    variant(
        "cpu",
        default="spec",
        values=("spec", "native", "baseline"),
        description="The CPU the kernels are compiled for: the spec's target, the build "
        "node's own, or the compiler's baseline",
    )
    variant(
        "static_swift",
        default=True,
        description="Link the Swift runtime into the binary, so that compute nodes need no Swift",
    )

    depends_on("mpi")
    depends_on("hdf5+mpi")
    depends_on("pkgconfig", type="build")
    requires("^openmpi", when="mpi=openmpi", msg="mpi=openmpi builds against Open MPI")
    conflicts("^openmpi", when="mpi=mpich", msg="mpi=mpich needs an MPICH-ABI MPI, not Open MPI")

    # The pkg-config package each MPI provider installs.
    mpi_pkgconfig = {
        "openmpi": "ompi",
        "mpich": "mpich",
        "cray-mpich": "mpich",
        "mvapich2": "mvapich2",
        "mvapich": "mvapich",
        "intel-oneapi-mpi": "impi",
    }

    def target_cpu(self):
        """TESSERA_TARGET_CPU: LLVM's name for the spec's target (archspec's flags for
        clang, whose CPU names the Swift compiler shares), or native, or empty (baseline)."""
        choice = self.spec.variants["cpu"].value
        if choice == "native":
            return "native"
        if choice == "baseline":
            return ""
        flags = self.spec.target.optimization_flags("clang", "17.0.0")
        for option in ("-mcpu", "-march"):
            match = re.search(option + r"=([A-Za-z0-9_.-]+)(\s|$)", flags)
            if match and not match.group(1).startswith(("armv", "x86-64")):
                return match.group(1)
        match = re.search(r"-march=(x86-64(-v[234])?)(\s|$)", flags)
        return match.group(1) if match else ""

    def setup_build_environment(self, env):
        spec = self.spec
        env.set("TESSERA_MPI", spec.variants["mpi"].value)
        provider = spec["mpi"].name
        if provider not in self.mpi_pkgconfig:
            raise InstallError(
                f"tessera: no pkg-config name known for the MPI '{provider}'; "
                "add it to Tessera.mpi_pkgconfig"
            )
        env.set("TESSERA_MPI_PC", self.mpi_pkgconfig[provider])
        env.set("TESSERA_HDF5_PC", "hdf5")
        env.set("TESSERA_TARGET_CPU", self.target_cpu())
        env.set("TESSERA_STATIC_SWIFT", "1" if spec.satisfies("+static_swift") else "0")
        env.set("TESSERA_INSTALL_DEPS", "0")
        # The modulefiles are Spack's to write; none loads another module.
        env.set("TESSERA_COMPILER_MODULE", "")
        env.set("TESSERA_MPI_MODULE", "")
        env.set("TESSERA_HDF5_MODULE", "")

    def install(self, spec, prefix):
        bash = which("bash")
        bash("scripts/install.sh", prefix)

    @run_after("install")
    def check_version(self):
        tessera = Executable(join_path(self.prefix.bin, "tessera"))
        version = tessera("--version", output=str).strip()
        if not version.startswith(str(self.spec.version)):
            raise InstallError(f"tessera --version says {version}, not {self.spec.version}")
