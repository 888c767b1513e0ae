#!/usr/bin/env bash
# The steps of packaging/Dockerfile and packaging/tessera.def (Apptainer), in one script that
# the tests run on Debian 12 as well:
#
#   packaging/container-build.sh build PREFIX   the build stage: Debian's Open MPI (or MPICH)
#                                               and parallel HDF5, Swift 6 if none is there,
#                                               then scripts/install.sh PREFIX
#   packaging/container-build.sh runtime        the runtime stage: only the shared libraries
#                                               and launcher the binary needs (of the MPI it
#                                               links, run from the installation)
#
# Settings (Docker build arguments, or the environment of apptainer build):
#   TESSERA_MPI=openmpi|mpich   the container's MPI; for the hybrid model it must share the
#                               host's ABI: Open MPI of the same major version as the host's,
#                               or MPICH for Cray MPICH, Intel MPI and MVAPICH hosts
#   TESSERA_TARGET_CPU          the kernels' CPU: baseline (the default, the compiler's, which
#                               runs on every x86-64 node) or the nodes', e.g. znver3, for speed
#   TESSERA_CLEAN_APT=1         the runtime stage removes apt's package lists afterwards
#   SWIFT_URL                   the Swift 6 toolchain for Debian 12 from swift.org, fetched
#                               when no swift is on PATH or in /opt/swift
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
mode="${1:?usage: packaging/container-build.sh build PREFIX | runtime}"
export DEBIAN_FRONTEND=noninteractive
mpi="${TESSERA_MPI:-openmpi}"
# The runtime stage takes the MPI the installed binary links.
binary="$here/../../bin/tessera"
if [ "$mode" = runtime ] && [ -x "$binary" ] && grep -qa 'libmpich\.so' "$binary"; then mpi=mpich; fi
case "$mpi" in
    openmpi) develop=(libopenmpi-dev openmpi-bin libhdf5-openmpi-dev) runtime=(openmpi-bin libopenmpi3 libhdf5-openmpi-103-1) ;;
    mpich) develop=(libmpich-dev mpich libhdf5-mpich-dev) runtime=(mpich libmpich12 libhdf5-mpich-103-1) ;;
    *) echo "TESSERA_MPI must be openmpi or mpich, not '$mpi'" >&2; exit 2 ;;
esac
install_packages() {
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "$@" > /dev/null
}

case "$mode" in
    build)
        prefix="${2:?usage: packaging/container-build.sh build PREFIX}"
        cd "$here/.."
        echo "==> build packages: ${develop[*]} pkg-config"
        install_packages "${develop[@]}" pkg-config
        if ! command -v swift > /dev/null && [ ! -x /opt/swift/usr/bin/swift ]; then
            # What Swift's toolchain needs on Debian 12 (swift.org's own image lists the same).
            install_packages ca-certificates curl git binutils libc6-dev libcurl4-openssl-dev libedit2 \
                libgcc-12-dev libpython3-dev libsqlite3-0 libstdc++-12-dev libxml2-dev libz3-dev tzdata \
                zlib1g-dev
            url="${SWIFT_URL:-https://download.swift.org/swift-6.3.1-release/debian12/swift-6.3.1-RELEASE/swift-6.3.1-RELEASE-debian12.tar.gz}"
            echo "==> Swift from $url"
            mkdir -p /opt/swift
            curl -fsSL "$url" | tar -xz -C /opt/swift --strip-components=1
        fi
        cpu="${TESSERA_TARGET_CPU:-baseline}"
        [ "$cpu" = baseline ] && cpu=""
        TESSERA_INSTALL_DEPS=0 TESSERA_TARGET_CPU="$cpu" TESSERA_MPI="$mpi" \
            TESSERA_COMPILER_MODULE="" TESSERA_MPI_MODULE="" TESSERA_HDF5_MODULE="" \
            bash scripts/install.sh "$prefix"
        # The runtime stage runs this script from the installation.
        install -D -m 755 packaging/container-build.sh "$prefix/share/tessera/container-build.sh"
        ;;
    runtime)
        echo "==> runtime packages: ${runtime[*]}"
        install_packages "${runtime[@]}"
        # In an image, the package lists are dead weight (TESSERA_CLEAN_APT=1 in the recipes).
        if [ "${TESSERA_CLEAN_APT:-0}" = 1 ]; then rm -rf /var/lib/apt/lists/*; fi
        ;;
    *)
        echo "usage: packaging/container-build.sh build PREFIX | runtime" >&2
        exit 2
        ;;
esac
