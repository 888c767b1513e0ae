"""PyClaw's own 2-D Euler quadrants example (Liska & Wendroff's case 3, clawpack's
pyclaw/examples/euler_2d/quadrants.py) at N×N cells to t = 0.8, with no output but the final
state. Its solver as the example leaves it: the Roe solver euler_4wave_2D, ClawSolver2D's
defaults of dimensional splitting (x then y each step; the example's transverse_waves = 2 has
no effect while it splits) and the minmod limiter, second order, adaptive dt at a Courant
number of 0.9 (1.0 at most).

    python euler_pyclaw.py N DENSITY.npy

Prints one JSON line: cells, steps, the solver's seconds (claw.run()) and the process's."""

import json
import sys
import time

started = time.perf_counter()
import numpy as np  # noqa: E402
from clawpack.pyclaw.examples.euler_2d import quadrants  # noqa: E402


def quadrants_on(n):
    """PyClaw's quadrants example (its solver, limiter and CFL settings) with the same problem
    on N×N cells."""
    claw = quadrants.setup()
    solution = claw.solution
    from clawpack import pyclaw
    from clawpack.riemann.euler_4wave_2D_constants import num_eqn
    domain = pyclaw.Domain([0.0, 0.0], [1.0, 1.0], [n, n])
    fresh = pyclaw.Solution(num_eqn, domain)
    fresh.problem_data["gamma"] = solution.problem_data["gamma"]
    xx, yy = domain.grid.p_centers
    l, r, b, t = xx < 0.8, xx >= 0.8, yy < 0.8, yy >= 0.8
    rho = 1.5 * r * t + 0.532258064516129 * l * t + 0.137992831541219 * l * b + 0.532258064516129 * r * b
    u = 1.206045378311055 * l * t + 1.206045378311055 * l * b
    v = 1.206045378311055 * l * b + 1.206045378311055 * r * b
    p = 1.5 * r * t + 0.3 * l * t + 0.029032258064516 * l * b + 0.3 * r * b
    fresh.q[0] = rho
    fresh.q[1] = rho * u
    fresh.q[2] = rho * v
    fresh.q[3] = 0.5 * rho * (u ** 2 + v ** 2) + p / (1.4 - 1.0)
    claw.solution = fresh
    return claw


def main():
    n, path = int(sys.argv[1]), sys.argv[2]
    claw = quadrants_on(n)
    claw.num_output_times = 1
    claw.output_format = None
    claw.keep_copy = True
    claw.verbosity = 0
    begin = time.perf_counter()
    claw.run()
    solver = time.perf_counter() - begin
    np.save(path, claw.frames[-1].q[0])
    print(json.dumps({"cells": n * n, "steps": claw.solver.status["numsteps"], "solver_seconds": solver,
                      "process_seconds": time.perf_counter() - started}))


if __name__ == "__main__":
    main()
