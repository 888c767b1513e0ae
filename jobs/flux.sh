#!/bin/bash
# Tessera under Flux: runs CONFIG, checkpoints before the time limit and resubmits itself
# until the run is done.
#
#   flux batch -N 2 --tasks-per-node=64 -t 12h --setattr=system.bank=PROJECT jobs/flux.sh run.toml
#
# On the flux batch line (or in #flux: lines below):
#   -N NODES --tasks-per-node=R   the slots; tessera runs on all of them (size them: tessera plan)
#   -t DURATION                   the time limit of one job; a longer run goes on in the next
#   --setattr=system.bank=BANK    the bank (account) to charge, where the site uses one
#   the config                    the argument after the script
# Variables (flux batch passes the environment on):
#   TESSERA_LAUNCHER="..."        the launch command, default "flux run -n SLOTS"
#   TESSERA_COMMAND=run|ensemble  what tessera runs (default run); both continue with --restart auto
#   TESSERA_MAX_REQUEUES=N        resubmit at most N times (default 10); 0 never resubmits
#   TESSERA_ARGS="..."            more arguments for tessera
#   TESSERA=/path/to/tessera      default: tessera on PATH (module load tessera)
#   TESSERA_MARGIN=SECONDS        tell tessera the limit is this much earlier (default 120)
#
# How it stops and comes back: the script asks Flux how long the job has left
# (flux job timeleft) and passes it to tessera (--walltime), which stops with a checkpoint
# in time and exits with 75 ("stopped early, restart me"). --signal=SIGUSR1@5m also warns
# the job 5 minutes before the limit, and the trap passes that on to the ranks. On 75 the
# script submits itself again to the enclosing instance (flux --parent batch), depending on
# this job, with this job's nodes, slots, time limit, queue and bank (read back from its
# jobspec) and its environment; the new job continues from the newest checkpoint that
# verifies (--restart auto). A SIGTERM (flux cancel) is passed on as SIGUSR1, and is never
# followed by a resubmission.
#flux: --job-name=tessera
#flux: --output=tessera-{{id}}.out
#flux: --signal=SIGUSR1@5m
set -uo pipefail

CONFIG="${1:?usage: flux batch [options] jobs/flux.sh CONFIG.toml}"
TESSERA="${TESSERA:-tessera}"
MAX_REQUEUES="${TESSERA_MAX_REQUEUES:-10}"
COUNT="${TESSERA_REQUEUE_COUNT:-0}"
COMMAND="${TESSERA_COMMAND:-run}"
STOPPED_EARLY=75
case "$COMMAND" in
    run | ensemble) ;;
    *) echo "TESSERA_COMMAND must be run or ensemble, not '$COMMAND'" >&2; exit 2 ;;
esac
read -r -a extra <<< "${TESSERA_ARGS:-}"
margin="${TESSERA_MARGIN:-120}"
deadline=()
left=$(flux job timeleft 2>/dev/null || true)
if [[ "$left" =~ ^[0-9]+$ ]] && [ "$left" -gt "$margin" ]; then deadline=(--walltime $((left - margin))); fi
slots=$(flux resource list -s up -no '{ncores}')
nodes=$(flux resource list -s up -no '{nnodes}')
if [ -n "${TESSERA_LAUNCHER:-}" ]; then
    read -r -a launch <<< "$TESSERA_LAUNCHER"
else
    launch=(flux run -n "$slots")
fi
echo "$(date -Is) job ${FLUX_JOB_ID:-?}, $slots ranks, ${left:-unlimited} s left, resubmitted $COUNT times so far"

echo "$(date -Is) launching: ${launch[*]} $TESSERA $COMMAND $CONFIG --restart auto ${deadline[*]} ${extra[*]}"
"${launch[@]}" "$TESSERA" "$COMMAND" "$CONFIG" --restart auto ${deadline[@]+"${deadline[@]}"} \
    ${extra[@]+"${extra[@]}"} &
pid=$!
resubmit=yes
# shellcheck disable=SC2317  # called from the traps below
on_signal() {
    echo "$(date -Is) SIG$1: asking tessera to checkpoint and stop"
    [ "$1" = TERM ] && resubmit=no
    kill -USR1 "$pid" 2>/dev/null
}
trap 'on_signal USR1' USR1
trap 'on_signal TERM' TERM
wait "$pid"
status=$?
while [ "$status" -gt 128 ] && kill -0 "$pid" 2>/dev/null; do
    wait "$pid"
    status=$?
done

if [ "$status" -eq "$STOPPED_EARLY" ] && [ "$resubmit" = no ]; then
    echo "$(date -Is) stopped after SIGTERM (flux cancel): not resubmitting"
elif [ "$status" -eq "$STOPPED_EARLY" ]; then
    if [ "$COUNT" -ge "$MAX_REQUEUES" ]; then
        echo "$(date -Is) stopped early; not resubmitting after $COUNT resubmissions (TESSERA_MAX_REQUEUES=$MAX_REQUEUES)"
    else
        # The time limit, queue and bank this job was given, from its jobspec (Flux's own
        # commands are Python, so python3 is there wherever flux is).
        same=()
        while IFS= read -r option; do
            [ -n "$option" ] && same+=("$option")
        done < <(flux --parent job info "$FLUX_JOB_ID" jobspec 2>/dev/null | python3 -c '
import json, sys
system = json.load(sys.stdin).get("attributes", {}).get("system", {})
for key, option in (("duration", "--time-limit={:g}s"), ("queue", "--queue={}"), ("bank", "--setattr=system.bank={}")):
    if system.get(key):
        print(option.format(system[key]))
' 2>/dev/null)
        next=$(TESSERA_REQUEUE_COUNT=$((COUNT + 1)) flux --parent batch --dependency="afterany:$FLUX_JOB_ID" \
            -N "$nodes" -n "$slots" ${same[@]+"${same[@]}"} "$0" "$CONFIG")
        echo "$(date -Is) stopped early; resubmitted as $next with -N $nodes -n $slots ${same[*]} ($((COUNT + 1)) of at most $MAX_REQUEUES)"
    fi
fi
echo "$(date -Is) tessera exited with $status"
exit "$status"
