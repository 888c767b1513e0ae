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

# The MPI to build with (see Package.swift): Open MPI by default, TESSERA_MPI=mpich for MPICH,
# built in its own folder so that both builds can sit side by side.
export TESSERA_MPI="${TESSERA_MPI:-openmpi}"
case "$TESSERA_MPI" in
    openmpi) MPI_PACKAGES=(libopenmpi-dev openmpi-bin libhdf5-openmpi-dev) PC=(ompi hdf5-openmpi) scratch=.build ;;
    mpich) MPI_PACKAGES=(libmpich-dev mpich libhdf5-mpich-dev) PC=(mpich hdf5-mpich) scratch=.build-mpich ;;
    *) die "TESSERA_MPI must be openmpi or mpich, not '$TESSERA_MPI'" ;;
esac
# STATIC_SWIFT=1 (scripts/install.sh) links the Swift runtime into the binary, in a folder
# of its own.
BUILD_ARGS=(--scratch-path "$scratch${STATIC_SWIFT:+-static}")
if [ -n "${STATIC_SWIFT:-}" ]; then BUILD_ARGS+=(--static-swift-stdlib); fi

# Debian/Ubuntu packages: the MPI, parallel HDF5 built against it, HDF5's tools, pkg-config,
# and whatever the calling script adds in EXTRA_PACKAGES.
PACKAGES=("${MPI_PACKAGES[@]}" hdf5-tools pkg-config ${EXTRA_PACKAGES[@]+"${EXTRA_PACKAGES[@]}"})
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
    elif pkg-config --exists "${PC[@]}" 2>/dev/null; then
        say "using the MPI and HDF5 that pkg-config finds (packages ${missing[*]} not installed)"
    else
        die "missing ${missing[*]}. As root: apt-get install ${missing[*]}. On a cluster: 'module load $TESSERA_MPI hdf5' (a parallel HDF5 built with that MPI) so that pkg-config finds '${PC[0]}' and '${PC[1]}'."
    fi
fi
pkg-config --exists "${PC[0]}" || die "pkg-config cannot find '${PC[0]}' (the development files of $TESSERA_MPI)"
pkg-config --exists "${PC[1]}" || die "pkg-config cannot find '${PC[1]}' (parallel HDF5's development files)"

# Open MPI refuses to run as root unless told, and needs leave to put more ranks than cores.
if [ "$(id -u)" -eq 0 ]; then
    export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
fi

# Kernels are compiled for this machine's CPU unless told otherwise (see docs/install.md).
export TESSERA_TARGET_CPU="${TESSERA_TARGET_CPU-native}"
say "building tessera (release, $TESSERA_MPI, TESSERA_TARGET_CPU=${TESSERA_TARGET_CPU:-baseline}, ${BUILD_ARGS[*]})"
swift build -c release "${BUILD_ARGS[@]}"
TESSERA="$(swift build -c release "${BUILD_ARGS[@]}" --show-bin-path)/tessera"
export TESSERA
