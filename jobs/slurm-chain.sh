#!/bin/bash
# A long Tessera run as a chain of N dependent Slurm jobs: each starts when the one before
# it has ended well (finished, or stopped early with a checkpoint) and continues from the
# newest checkpoint. Use it where the site limits wall time per job or forbids requeueing;
# jobs/slurm.sh alone requeues itself instead.
#
#   jobs/slurm-chain.sh N [sbatch options] CONFIG.toml
#   jobs/slurm-chain.sh 8 --nodes=4 --ntasks-per-node=64 --time=24:00:00 --account=PROJECT run.toml
#
# Submits jobs/slurm.sh N times with --dependency=afterok on the previous job,
# --kill-on-invalid-dep=yes, TESSERA_MAX_REQUEUES=0 and TESSERA_CHAIN=1: a link stopped early
# exits 0 and the next continues; a link that fails (bad input, a crash, a cancellation)
# exits non-zero, and Slurm cancels the rest of the chain instead of burning it. Links that
# start after the run has finished see its final checkpoint and exit at once. Prints the job
# IDs; cancel the rest of the chain with scancel on them. TESSERA_COMMAND=ensemble chains
# tessera ensemble the same way.
set -euo pipefail
usage="usage: jobs/slurm-chain.sh N [sbatch options] CONFIG.toml"
[ "$#" -ge 2 ] || { echo "$usage" >&2; exit 2; }
links="$1"
shift
[[ "$links" =~ ^[1-9][0-9]*$ ]] || { echo "N must be a positive whole number, not '$links'. $usage" >&2; exit 2; }
config="${*: -1}"
options=("${@:1:$#-1}")
[ -f "$config" ] || { echo "no config file '$config'. $usage" >&2; exit 2; }
script="$(dirname "$0")/slurm.sh"

previous=""
for link in $(seq "$links"); do
    dependency=()
    [ -n "$previous" ] && dependency=(--dependency="afterok:$previous" --kill-on-invalid-dep=yes)
    previous=$(sbatch --parsable --export=ALL,TESSERA_MAX_REQUEUES=0,TESSERA_CHAIN=1 \
        ${dependency[@]+"${dependency[@]}"} ${options[@]+"${options[@]}"} "$script" "$config")
    previous="${previous%%;*}"
    echo "link $link of $links: job $previous"
done
