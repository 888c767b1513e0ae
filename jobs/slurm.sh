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
#   TESSERA_LAUNCHER=srun|mpirun  srun --mpi=pmix (default), or mpirun, which reads the allocation
#   TESSERA_MAX_REQUEUES=N        requeue at most N times (default 10); 0 never requeues
#   TESSERA_ARGS="..."            more arguments for tessera run, e.g. "--set output.dir=/scratch/x"
#   TESSERA=/path/to/tessera      default: tessera on PATH (module load tessera)
#
# How it stops and comes back: --signal=B:USR1@300 sends SIGUSR1 to this script 300 s
# before the limit; the trap passes it on to every rank, which write a checkpoint and exit
# with 75 ("stopped early, restart me"); the script then requeues the job. tessera also
# stops by itself before SLURM_JOB_END_TIME. The requeued job (and one Slurm requeues after a
# node failure) continues from the newest checkpoint that verifies (--restart auto), and its
# output goes on in the same tessera-JOBID.out. SIGTERM (scancel, preemption) also makes the
# ranks checkpoint, but the script does not requeue then.
#
# Exit codes: 0 finished; 75 stopped early (and requeued unless out of requeues or
# cancelled); anything else is a failure and is not requeued.
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
read -r -a extra <<< "${TESSERA_ARGS:-}"
case "${TESSERA_LAUNCHER:-srun}" in
    srun) launch=(srun --mpi=pmix) ;;
    mpirun) launch=(mpirun) ;;
    *) echo "TESSERA_LAUNCHER must be srun or mpirun, not '$TESSERA_LAUNCHER'" >&2; exit 2 ;;
esac
requeues="${SLURM_RESTART_COUNT:-0}"
echo "$(date -Is) job $SLURM_JOB_ID on $SLURM_JOB_NUM_NODES node(s), $SLURM_NTASKS ranks, requeued $requeues times so far"

"${launch[@]}" "$TESSERA" run "$CONFIG" --restart auto "${extra[@]}" &
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

if [ "$status" -eq "$STOPPED_EARLY" ]; then
    if [ "$requeue" = no ]; then
        echo "$(date -Is) stopped after SIGTERM (cancelled or preempted): not requeueing"
    elif [ "$requeues" -ge "$MAX_REQUEUES" ]; then
        echo "$(date -Is) stopped early; not requeueing after $requeues requeues (TESSERA_MAX_REQUEUES=$MAX_REQUEUES)." \
            "Submit again to continue from the newest checkpoint."
    else
        echo "$(date -Is) stopped early; requeueing (requeue $((requeues + 1)) of at most $MAX_REQUEUES)"
        scontrol requeue "$SLURM_JOB_ID"
    fi
fi
echo "$(date -Is) tessera exited with $status"
exit "$status"
