"""The heat update of Tessera's Heat model written in Devito, for bench/run.sh.

    python heat_devito.py N STEPS REPEATS

Times Devito's generated C for u(t+1) = u(t) + dt * laplace(u(t)) (second order in space: the
same 7-point stencil) on an N^3 grid of float64 (Devito's default is float32, which would
stream half the bytes), one thread, compiled by gcc (DEVITO_LANGUAGE=C, DEVITO_ARCH=gcc, set
by bench/run.sh). Prints one number: the best rate over REPEATS, in cell updates per second.
The first apply, which generates and compiles the code, is not timed.
"""

import sys
import time

import numpy as np
from devito import Eq, Grid, Operator, TimeFunction, configuration

n, steps, repeats = (int(value) for value in sys.argv[1:4])
configuration["log-level"] = "ERROR"
grid = Grid(shape=(n, n, n), extent=(1.0, 1.0, 1.0), dtype=np.float64)
u = TimeFunction(name="u", grid=grid, space_order=2, dtype=np.float64)
u.data[:] = np.random.default_rng(0).random((n, n, n))
dt = 0.1 / n**2
operator = Operator([Eq(u.forward, u + dt * u.laplace)])
operator.apply(time_M=1, dt=dt)
best = float("inf")
for _ in range(repeats):
    start = time.perf_counter()
    operator.apply(time_m=0, time_M=steps - 1, dt=dt)
    best = min(best, time.perf_counter() - start)
print(f"{n**3 * steps / best:.4e}")
