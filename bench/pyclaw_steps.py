"""PyClaw's own 2-D Euler scheme (quadrants, bench/euler_pyclaw.py) stepped with Tessera's step
rule instead of its own: each step `cfl` (0.9) times the stable step of the current state,
1 / max over cells and axes of (|u_a| + c) / h, at most 1.1 times the step before, and the last
one shortened to land on t = 0.8. It asks what a port of PyClaw's wave-propagation scheme would
score on bench/pyclaw.sh's accuracy measure once Tessera chose its steps.

    bench/.venv-pyclaw/bin/python bench/pyclaw_steps.py [N]     (default 400)

Needs bench/pyclaw.sh's cached densities (bench/out/pyclaw/pyclaw-N.npy and -2N.npy). Prints
one JSON line: steps, the L1 density difference from PyClaw at 2N² (averaged to N²), PyClaw's
own at N², and the Courant numbers PyClaw measured over the steps."""

import json
import pathlib
import sys

import numpy as np

from euler_pyclaw import quadrants_on

OUT = pathlib.Path(__file__).resolve().parent / "out" / "pyclaw"


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 400
    claw = quadrants_on(n)
    solution, solver = claw.solution, claw.solver
    gamma = solution.problem_data["gamma"]
    solver.dt_variable = False
    solver.setup(solution)
    h = 1.0 / n

    def stable(q):
        rho, u, v = q[0], q[1] / q[0], q[2] / q[0]
        c = np.sqrt(gamma * (gamma - 1) * np.maximum(q[3] - 0.5 * rho * (u * u + v * v), 0) / rho)
        return h / np.max(np.maximum(np.abs(u), np.abs(v)) + c)

    end, now, last, courant = 0.8, 0.0, 0.0, []
    while now < end:
        wanted = 0.9 * stable(solution.q)
        if last > 0:
            wanted = min(wanted, 1.1 * last)
        lands = now + wanted * (1 + 1e-12) >= end
        solver.dt = end - now if lands else wanted
        solver.evolve_to_time(solution)  # one step of solver.dt
        courant.append(solver.cfl.get_cached_max())
        now = end if lands else now + solver.dt
        solution.t = now
        last = wanted
    fine = np.load(OUT / f"pyclaw-{2 * n}.npy")
    coarse = fine.reshape(n, 2, n, 2).mean(axis=(1, 3))
    own = np.load(OUT / f"pyclaw-{n}.npy")
    print(json.dumps({
        "cells": n * n, "steps": len(courant), "l1": float(np.abs(solution.q[0] - coarse).mean()),
        "pyclaw_own_l1": float(np.abs(own - coarse).mean()), "courant_mean": float(np.mean(courant)),
        "courant_max": float(np.max(courant))}))


if __name__ == "__main__":
    main()
