#!/usr/bin/env bash
# Installs Tessera for a site: the binary, its manual, examples and batch scripts under
# PREFIX, and (given MODULEFILES) modulefiles for Lmod and Environment Modules.
#
#   scripts/install.sh PREFIX [MODULEFILES]
#
#   PREFIX       where Tessera goes, one folder per version, e.g. /opt/tessera/0.1.0:
#                bin/tessera, README.md, docs/, examples/, jobs/
#   MODULEFILES  the root of the site's module tree, e.g. /opt/modulefiles: writes
#                tessera/<version>.lua (Lmod) and tessera/<version> (Environment Modules)
#
# Load the compiler, MPI and parallel HDF5 modules to build with first. The modulefiles
# load the MPI and HDF5 modules that were loaded at install time (from LOADEDMODULES);
# TESSERA_MPI_MODULE and TESSERA_HDF5_MODULE name others, or "" for none.
#
# The binary links the Swift runtime statically, so compute nodes need no Swift; it still
# links MPI and HDF5 dynamically, from the modules above.
set -euo pipefail
PREFIX="${1:?usage: scripts/install.sh PREFIX [MODULEFILES]}"
MODULEFILES="${2:-}"
STATIC_SWIFT=1
# shellcheck source=setup.sh source-path=SCRIPTDIR
source "$(dirname "$0")/setup.sh"

version="$("$TESSERA" --version)"
loaded() { tr ':' '\n' <<< "${LOADEDMODULES:-}" | grep -E "$1" | head -n 1 || true; }
mpi="${TESSERA_MPI_MODULE-$(loaded '^(openmpi|open-mpi|mpich|cray-mpich|mvapich[0-9]*|intel-?mpi|impi)(/|$)')}"
hdf5="${TESSERA_HDF5_MODULE-$(loaded '^(hdf5|phdf5|parallel-hdf5|hdf5-parallel|cray-hdf5-parallel)(/|$)')}"

say "installing tessera $version into $PREFIX"
mkdir -p "$PREFIX/bin"
install -m 755 "$TESSERA" "$PREFIX/bin/tessera"
cp README.md "$PREFIX/"
for folder in docs examples jobs; do
    rm -rf "${PREFIX:?}/$folder"
    cp -R "$folder" "$PREFIX/$folder"
done

if [ -n "$MODULEFILES" ]; then
    mkdir -p "$MODULEFILES/tessera"
    # The kept modulefiles with this installation's root and modules filled in.
    sed -e "s|^local root = .*|local root = \"$PREFIX\"|" \
        -e "s|^local mpi = .*|local mpi = \"$mpi\"|" \
        -e "s|^local hdf5 = .*|local hdf5 = \"$hdf5\"|" \
        -e "s|0\.1\.0|$version|g" \
        "Modulefiles/tessera/0.1.0.lua" > "$MODULEFILES/tessera/$version.lua"
    sed -e "s|^set root .*|set root {$PREFIX}|" \
        -e "s|^set mpi .*|set mpi \"$mpi\"|" \
        -e "s|^set hdf5 .*|set hdf5 \"$hdf5\"|" \
        -e "s|0\.1\.0|$version|g" \
        "Modulefiles/tessera/0.1.0" > "$MODULEFILES/tessera/$version"
    say "modulefiles: $MODULEFILES/tessera/$version.lua (Lmod), $MODULEFILES/tessera/$version (Environment Modules)"
    say "loading: ${mpi:-no MPI module} and ${hdf5:-no HDF5 module}; users run 'module use $MODULEFILES; module load tessera'"
fi
