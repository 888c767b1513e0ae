# Sourced by the benchmarks: the repository as working folder, Swift on PATH, a release build
# for this machine's CPU (TESSERA_TARGET_CPU names another) made by scripts/setup.sh, in the
# build folder named after that CPU and the MPI; mpirun allowed as root; sets TESSERA.
# shellcheck shell=bash
# shellcheck source=../scripts/setup.sh
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/setup.sh" > /dev/null
