#!/bin/bash
# Run Tessera under Slurm. Set nodes, tasks per node, time and account on the sbatch line
# (or here), and pass the config file as the argument:
#   sbatch --nodes=2 --ntasks-per-node=64 --time=01:00:00 --account=ACCOUNT jobs/slurm.sh heat.toml
#SBATCH --job-name=tessera
#SBATCH --output=tessera-%j.out
set -euo pipefail
CONFIG="${1:?usage: sbatch jobs/slurm.sh CONFIG.toml}"
TESSERA="${TESSERA:-tessera}"   # from PATH (module load tessera) or set TESSERA=/path/to/tessera
srun --mpi=pmix "$TESSERA" run "$CONFIG"
