#!/bin/bash
# Tessera under Slurm: runs CONFIG, checkpoints before the wall-clock limit and requeues
# itself until the run is done.
#
#   sbatch --nodes=2 --ntasks-per-node=64 --time=12:00:00 --account=PROJECT jobs/slurm.sh run.toml
#
# On the sbatch line (or in #SBATCH lines below):
#   --nodes, --ntasks-per-node   the ranks: nodes × tasks per node (size them: tessera plan)
#   --time                       the wall time of one job; a longer run goes on in the requeued job
#   --account, --partition       as the site requires
# In the environment (exported before sbatch, which passes it on):
#   TESSERA_LAUNCHER="..."        the launch command, default "srun --mpi=pmix" (Open MPI with
#                                 PMIx); "srun" for the site's default plugin (Cray MPICH),
#                                 "srun --mpi=pmi2" (Intel MPI, MPICH), "mpirun" (reads the
#                                 allocation), "mpiexec", ...
#   TESSERA_COMMAND=run|ensemble  what tessera runs (default run); both continue with --restart auto
#   TESSERA_MAX_REQUEUES=N        requeue at most N times (default 10); 0 never requeues
#   TESSERA_ARGS="..."            more arguments for tessera, e.g. "--set output.dir=/scratch/x"
#   TESSERA=/path/to/tessera      default: tessera on PATH (module load tessera)
#   TESSERA_CHAIN=1               set by slurm-chain.sh: a link stopped early exits 0, so that the
#                                 next link (afterok) continues; a failure stops the chain
#
# How it stops and comes back: --signal=B:USR1@300 sends SIGUSR1 to this script 300 s
# before the limit; the trap passes it on to every rank, which write a checkpoint and exit
# with 75 ("stopped early, restart me"); the script then requeues the job. tessera also
# stops by itself before SLURM_JOB_END_TIME. The requeued job (and one Slurm requeues after a
# node failure) continues from the newest checkpoint that verifies (--restart auto), and its
# output goes on in the same tessera-JOBID.out. SIGTERM (scancel, preemption) also makes the
# ranks checkpoint, but the script does not requeue then.
#
# Exit codes: 0 finished (or, in a chain, stopped early for the next link); 75 stopped early
# (and requeued unless out of requeues or cancelled); anything else is a failure and is not
# requeued.
#SBATCH --job-name=tessera
#SBATCH --output=tessera-%j.out
#SBATCH --open-mode=append
#SBATCH --signal=B:USR1@300
#SBATCH --requeue
set -uo pipefail

CONFIG="${1:?usage: sbatch [options] jobs/slurm.sh CONFIG.toml}"
TESSERA="${TESSERA:-tessera}"
MAX_REQUEUES="${TESSERA_MAX_REQUEUES:-10}"
STOPPED_EARLY=75
COMMAND="${TESSERA_COMMAND:-run}"
read -r -a extra <<< "${TESSERA_ARGS:-}"
read -r -a launch <<< "${TESSERA_LAUNCHER:-srun --mpi=pmix}"
case "$COMMAND" in
    run | ensemble) ;;
    *) echo "TESSERA_COMMAND must be run or ensemble, not '$COMMAND'" >&2; exit 2 ;;
esac
[ "${#launch[@]}" -gt 0 ] || { echo "TESSERA_LAUNCHER is empty; unset it for srun --mpi=pmix" >&2; exit 2; }
requeues="${SLURM_RESTART_COUNT:-0}"
echo "$(date -Is) job $SLURM_JOB_ID on $SLURM_JOB_NUM_NODES node(s), $SLURM_NTASKS ranks, requeued $requeues times so far"

echo "$(date -Is) launching: ${launch[*]} $TESSERA $COMMAND $CONFIG --restart auto ${extra[*]}"
"${launch[@]}" "$TESSERA" "$COMMAND" "$CONFIG" --restart auto ${extra[@]+"${extra[@]}"} &
pid=$!
requeue=yes
# The warning signal, or a cancellation: ask the ranks to checkpoint and stop. mpirun and
# srun both pass SIGUSR1 on to every rank.
# shellcheck disable=SC2317  # called from the traps below
on_signal() {
    echo "$(date -Is) $1: asking tessera to checkpoint and stop"
    [ "$1" = TERM ] && requeue=no
    kill -USR1 "$pid" 2>/dev/null
}
trap 'on_signal USR1' USR1
trap 'on_signal TERM' TERM
wait "$pid"
status=$?
# A trap interrupts wait; wait again until tessera has really ended.
while [ "$status" -gt 128 ] && kill -0 "$pid" 2>/dev/null; do
    wait "$pid"
    status=$?
done

code=$status
if [ "$status" -eq "$STOPPED_EARLY" ]; then
    if [ "$requeue" = no ]; then
        echo "$(date -Is) stopped after SIGTERM (cancelled or preempted): not requeueing"
    elif [ "${TESSERA_CHAIN:-0}" = 1 ]; then
        echo "$(date -Is) stopped early; the next link of the chain continues from the checkpoint"
        code=0
    elif [ "$requeues" -ge "$MAX_REQUEUES" ]; then
        echo "$(date -Is) stopped early; not requeueing after $requeues requeues (TESSERA_MAX_REQUEUES=$MAX_REQUEUES)." \
            "Submit again to continue from the newest checkpoint."
    else
        echo "$(date -Is) stopped early; requeueing (requeue $((requeues + 1)) of at most $MAX_REQUEUES)"
        scontrol requeue "$SLURM_JOB_ID"
    fi
fi
echo "$(date -Is) tessera exited with $status"
exit "$code"
