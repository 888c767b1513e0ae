# Sourced by the benchmarks: the repository as working folder, Swift on PATH, a release build
# for this machine's CPU (as scripts/ build it), mpirun allowed as root; sets TESSERA.
# shellcheck shell=bash
cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 1
if ! command -v swift >/dev/null && [ -x /opt/swift/usr/bin/swift ]; then export PATH="/opt/swift/usr/bin:$PATH"; fi
export TESSERA_TARGET_CPU="${TESSERA_TARGET_CPU-native}"
if [ "$(id -u)" -eq 0 ]; then export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1; fi
swift build -c release >/dev/null
TESSERA="$PWD/.build/release/tessera"
export TESSERA
