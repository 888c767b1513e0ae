# shellcheck shell=bash
# Shared set-up for scripts/quickstart, scripts/test and scripts/install.sh (sourced, not run).
#
# Checks for the Swift toolchain, an MPI and a parallel HDF5 that pkg-config finds, and the
# Debian packages the calling script adds (EXTRA_PACKAGES). Installs nothing unless asked:
# with TESSERA_INSTALL_DEPS=1 (scripts/quickstart and scripts/test ask; scripts/install.sh
# takes --install-deps) it installs the missing Debian packages with apt as root; otherwise it
# says exactly what is missing and how to get it. Then builds tessera in release mode
# (TESSERA_SETUP_CHECK=1 stops after the checks) and leaves TESSERA (the binary) set.
#
# Sites whose MPI and HDF5 come from Spack, EasyBuild or the vendor name their pkg-config
# packages: TESSERA_MPI_PC (for example mpi or cray-mpich) and TESSERA_HDF5_PC (hdf5, or
# hdf5_hl...). Without TESSERA_HDF5_PC, a parallel `hdf5` (its H5pubconf.h says
# H5_HAVE_PARALLEL, as Spack's hdf5+mpi and Cray's provide) stands in for Debian's name.

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
# Kernels are compiled for this machine's CPU unless told otherwise (see docs/install.md).
export TESSERA_TARGET_CPU="${TESSERA_TARGET_CPU-native}"
# On a core with AVX-512, the wave vectorises eight doubles wide (Package.swift).
if [ "$TESSERA_TARGET_CPU" = native ] && grep -qw avx512f /proc/cpuinfo 2>/dev/null; then
    export TESSERA_VECTOR_WIDTH="${TESSERA_VECTOR_WIDTH-8}"
fi
# The build folder is named after what changes the compiled code: the MPI, the target CPU
# and (STATIC_SWIFT=1, scripts/install.sh) a Swift runtime linked into the binary. SwiftPM
# would reuse objects compiled for another CPU in the same folder: a changed environment
# regenerates its build plan but recompiles nothing.
case "$TESSERA_TARGET_CPU" in
    native) ;;
    "") scratch+=-cpu-baseline ;;
    *) scratch+="-cpu-${TESSERA_TARGET_CPU//[^A-Za-z0-9._-]/_}" ;;
esac
scratch+="${STATIC_SWIFT:+-static}"
BUILD_ARGS=(--scratch-path "$scratch")
if [ -n "${STATIC_SWIFT:-}" ]; then BUILD_ARGS+=(--static-swift-stdlib); fi

# Whether the HDF5 of pkg-config package $1 is built for MPI: its H5pubconf.h, in one of the
# package's include folders, defines H5_HAVE_PARALLEL.
hdf5_is_parallel() {
    local flag
    for flag in $(pkg-config --cflags-only-I "$1" 2>/dev/null); do
        grep -qs "define H5_HAVE_PARALLEL 1" "${flag#-I}/H5pubconf.h" && return 0
    done
    return 1
}
# Whether the HDF5 of package $1 requires no MPI package but ours: Debian's `hdf5.pc` is an
# alternatives link that may point at the HDF5 of another MPI (it requires `ompi`).
hdf5_for_our_mpi() {
    local required
    for required in $(pkg-config --print-requires "$1" 2>/dev/null | awk '{ print $1 }'); do
        case "$required" in ompi* | mpich* | mpi) [ "$required" = "${PC[0]}" ] || return 1 ;; esac
    done
}
if [ -n "${TESSERA_MPI_PC:-}" ]; then PC[0]="$TESSERA_MPI_PC"; fi
if [ -n "${TESSERA_HDF5_PC:-}" ]; then PC[1]="$TESSERA_HDF5_PC"; fi
found() { pkg-config --exists "${PC[0]}" "${PC[1]}" 2>/dev/null; }
# Where the HDF5 named is not found and none was named: a parallel `hdf5` built for our MPI (a
# Spack, EasyBuild or Cray environment) stands in.
parallel_hdf5() {
    [ -z "${TESSERA_HDF5_PC:-}" ] && ! pkg-config --exists "${PC[1]}" 2>/dev/null \
        && pkg-config --exists hdf5 2>/dev/null && hdf5_is_parallel hdf5 && hdf5_for_our_mpi hdf5 || return 1
    PC[1]=hdf5
}

# Debian/Ubuntu packages: the MPI, parallel HDF5 built against it, HDF5's tools, pkg-config,
# and whatever the calling script adds in EXTRA_PACKAGES. Needed only where pkg-config does
# not already find the MPI and HDF5 (a site's modules), except the caller's extras.
missing=()
if command -v dpkg-query >/dev/null; then
    PACKAGES=(${EXTRA_PACKAGES[@]+"${EXTRA_PACKAGES[@]}"})
    if ! found; then PACKAGES+=("${MPI_PACKAGES[@]}" hdf5-tools pkg-config); fi
    for package in ${PACKAGES[@]+"${PACKAGES[@]}"}; do
        dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
    done
fi
if [ "${#missing[@]}" -gt 0 ]; then
    if [ "${TESSERA_INSTALL_DEPS:-0}" = 1 ] && [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
        say "installing ${missing[*]}"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        apt-get install -y -qq "${missing[@]}" >/dev/null
    elif found || { parallel_hdf5 && found; }; then
        say "not installed: ${missing[*]} (TESSERA_INSTALL_DEPS=1 as root installs them with apt); going on without"
    else
        how="TESSERA_INSTALL_DEPS=1 as root installs them with apt"
        if [ "$(id -u)" -ne 0 ]; then how="as root: apt-get install ${missing[*]}"; fi
        die "missing ${missing[*]} ($how). On a cluster: 'module load $TESSERA_MPI hdf5' (a parallel HDF5 built with that MPI) so that pkg-config finds '${PC[0]}' and '${PC[1]}', or name your pkg-config packages with TESSERA_MPI_PC and TESSERA_HDF5_PC."
    fi
fi
found || parallel_hdf5 || true
# Package.swift reads other names than Debian's from the environment.
case "$TESSERA_MPI" in openmpi) debian=(ompi hdf5-openmpi) ;; *) debian=(mpich hdf5-mpich) ;; esac
if [ "${PC[0]}" != "${debian[0]}" ]; then export TESSERA_MPI_PC="${PC[0]}"; else unset TESSERA_MPI_PC; fi
if [ "${PC[1]}" != "${debian[1]}" ]; then export TESSERA_HDF5_PC="${PC[1]}"; else unset TESSERA_HDF5_PC; fi
command -v pkg-config >/dev/null || die "no pkg-config on PATH: install it (Debian: pkg-config; Spack: pkgconf)"
pkg-config --exists "${PC[0]}" || die "pkg-config cannot find '${PC[0]}' (the development files of $TESSERA_MPI; TESSERA_MPI_PC names another package; PKG_CONFIG_PATH=${PKG_CONFIG_PATH:-})"
pkg-config --exists "${PC[1]}" || die "pkg-config cannot find '${PC[1]}' (parallel HDF5's development files; TESSERA_HDF5_PC names another package, such as hdf5; PKG_CONFIG_PATH=${PKG_CONFIG_PATH:-})"
hdf5_is_parallel "${PC[1]}" || die "'${PC[1]}' is an HDF5 built without MPI (its H5pubconf.h does not define H5_HAVE_PARALLEL): load or name a parallel HDF5"
say "MPI from pkg-config '${PC[0]}', parallel HDF5 from '${PC[1]}'"
# What the folder was last built against (pkg-config names, versions and flags): a site that
# loads another MPI or HDF5 module gets a clean rebuild, not objects of the old one.
configuration="$(printf '%s %s\n' "${PC[0]}" "$(pkg-config --modversion "${PC[0]}")" "${PC[1]}" \
    "$(pkg-config --modversion "${PC[1]}")"; pkg-config --cflags --libs "${PC[@]}")"
stamp="$scratch/tessera-configuration.txt"
stale=no
if [ -f "$stamp" ] && [ "$(cat "$stamp")" != "$configuration" ]; then stale=yes; fi
if [ "${TESSERA_SETUP_CHECK:-0}" = 1 ]; then
    note=""
    if [ "$stale" = yes ]; then note=" (cleaned first: its MPI or HDF5 changed)"; fi
    say "would build in $scratch$note"
    return 0
fi
if [ "$stale" = yes ]; then
    say "$scratch was built against another MPI or HDF5 ($(head -n 2 "$stamp" | tr '\n' ' ')): cleaning it"
    swift package --scratch-path "$scratch" clean
fi

# Open MPI refuses to run as root unless told, and needs leave to put more ranks than cores.
if [ "$(id -u)" -eq 0 ]; then
    export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
fi

say "building tessera (release, $TESSERA_MPI, TESSERA_TARGET_CPU=${TESSERA_TARGET_CPU:-baseline}, ${BUILD_ARGS[*]})"
# SwiftPM compiles the C targets (and TOMLKit's C++) with the toolchain's own clang unless
# CC or CXX names another compiler; a build environment that sets them for GCC (EasyBuild's,
# a site's compiler module) would break the build.
unset CC CXX
swift build -c release "${BUILD_ARGS[@]}"
printf '%s\n' "$configuration" > "$stamp"
TESSERA="$(swift build -c release "${BUILD_ARGS[@]}" --show-bin-path)/tessera"
export TESSERA
say "built $TESSERA"
