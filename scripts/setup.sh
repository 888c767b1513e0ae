# shellcheck shell=bash
# Shared set-up for scripts/quickstart and scripts/test (sourced, not run).
#
# Checks for the Swift toolchain, MPI, parallel HDF5 and pkg-config; installs the missing
# system packages with apt when run as root, and otherwise says what to install or load.
# Then builds tessera in release mode. Leaves TESSERA (the binary) set.

set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

say() { printf '==> %s\n' "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

if ! command -v swift >/dev/null && [ -x /opt/swift/usr/bin/swift ]; then
    export PATH="/opt/swift/usr/bin:$PATH"
fi
command -v swift >/dev/null || die "no Swift toolchain on PATH: install Swift 6 (https://swift.org/install) or 'module load swift'"

# Debian/Ubuntu packages: Open MPI, parallel HDF5 built against it, its tools, pkg-config,
# and whatever the calling script adds in EXTRA_PACKAGES.
PACKAGES=(libopenmpi-dev openmpi-bin libhdf5-openmpi-dev hdf5-tools pkg-config ${EXTRA_PACKAGES[@]+"${EXTRA_PACKAGES[@]}"})
missing=()
for package in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ "${#missing[@]}" -gt 0 ]; then
    if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
        say "installing ${missing[*]}"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        apt-get install -y -qq "${missing[@]}" >/dev/null
    elif pkg-config --exists ompi hdf5-openmpi 2>/dev/null && command -v mpirun >/dev/null; then
        say "using the MPI and HDF5 that pkg-config finds (packages ${missing[*]} not installed)"
    else
        die "missing ${missing[*]}. As root: apt-get install ${missing[*]}. On a cluster: 'module load openmpi hdf5' (a parallel HDF5 built with that MPI) so that pkg-config finds 'ompi' and 'hdf5-openmpi'."
    fi
fi
pkg-config --exists ompi || die "pkg-config cannot find 'ompi' (Open MPI's development files)"
pkg-config --exists hdf5-openmpi || die "pkg-config cannot find 'hdf5-openmpi' (parallel HDF5's development files)"

# Open MPI refuses to run as root unless told, and needs leave to put more ranks than cores.
if [ "$(id -u)" -eq 0 ]; then
    export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
fi

# Kernels are compiled for this machine's CPU unless told otherwise (see docs/install.md).
export TESSERA_TARGET_CPU="${TESSERA_TARGET_CPU-native}"
# BUILD_ARGS (an array the caller may set) adds swift build options, for example a
# statically linked Swift runtime for installation (scripts/install.sh).
say "building tessera (release, TESSERA_TARGET_CPU=${TESSERA_TARGET_CPU:-baseline}${BUILD_ARGS[*]+, ${BUILD_ARGS[*]}})"
swift build -c release ${BUILD_ARGS[@]+"${BUILD_ARGS[@]}"}
TESSERA="$(swift build -c release ${BUILD_ARGS[@]+"${BUILD_ARGS[@]}"} --show-bin-path)/tessera"
export TESSERA
