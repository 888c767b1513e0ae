"""The compressible Euler model through the real binary: the Sod shock tube against the exact
Riemann solution under refinement, conservation in a periodic shear layer, reflecting walls
under gravity. (Bitwise rank independence and restart are in test_models.py.)"""

import math

import h5py
import numpy as np
import pytest

from conftest import run_tessera, write_config

GAMMA = 1.4


def exact_riemann_density(x, t, left, right, x0=0.5, gamma=GAMMA):
    """Density of the exact solution of the Riemann problem (Toro, chapter 4)."""
    (rl, ul, pl), (rr, ur, pr) = left, right
    cl, cr = math.sqrt(gamma * pl / rl), math.sqrt(gamma * pr / rr)

    def f(p, r, pk, ck):
        if p > pk:
            a, b = 2 / ((gamma + 1) * r), (gamma - 1) / (gamma + 1) * pk
            return (p - pk) * math.sqrt(a / (p + b))
        return 2 * ck / (gamma - 1) * ((p / pk) ** ((gamma - 1) / (2 * gamma)) - 1)

    low, high = 1e-12, 10 * max(pl, pr)
    for _ in range(200):  # bisection: f is increasing in p
        middle = 0.5 * (low + high)
        if f(middle, rl, pl, cl) + f(middle, rr, pr, cr) + ur - ul > 0:
            high = middle
        else:
            low = middle
    p = 0.5 * (low + high)
    u = 0.5 * (ul + ur) + 0.5 * (f(p, rr, pr, cr) - f(p, rl, pl, cl))
    g1, g2 = (gamma - 1) / (gamma + 1), (gamma - 1) / (2 * gamma)

    def density(s):
        if s <= u:
            if p > pl:
                shock = ul - cl * math.sqrt((gamma + 1) / (2 * gamma) * p / pl + g2)
                return rl if s <= shock else rl * (p / pl + g1) / (g1 * p / pl + 1)
            head, tail = ul - cl, u - cl * (p / pl) ** g2
            if s <= head:
                return rl
            if s >= tail:
                return rl * (p / pl) ** (1 / gamma)
            return rl * (2 / (gamma + 1) + g1 / cl * (ul - s)) ** (2 / (gamma - 1))
        if p > pr:
            shock = ur + cr * math.sqrt((gamma + 1) / (2 * gamma) * p / pr + g2)
            return rr if s >= shock else rr * (p / pr + g1) / (g1 * p / pr + 1)
        head, tail = ur + cr, u + cr * (p / pr) ** g2
        if s >= head:
            return rr
        if s <= tail:
            return rr * (p / pr) ** (1 / gamma)
        return rr * (2 / (gamma + 1) - g1 / cr * (ur - s)) ** (2 / (gamma - 1))

    return np.array([density((xi - x0) / t) for xi in x])


def test_the_exact_solver_gives_sods_star_states():
    # At t = 0.2: the rarefaction's tail, then contact (x = 0.685) and shock (x = 0.850).
    x = np.array([0.1, 0.6, 0.8, 0.9])
    np.testing.assert_allclose(exact_riemann_density(x, 0.2, (1, 0, 1), (0.125, 0, 0.1)),
                               [1, 0.42632, 0.26557, 0.125], rtol=1e-4)


@pytest.mark.parametrize("integrator", ["split", "wave_propagation", "ssprk2"])
def test_sod_l1_error_falls_with_refinement(tmp_path, integrator):
    errors = []
    for n in (100, 200, 400):
        out = tmp_path / f"n{n}"
        write_config(tmp_path / f"{n}.toml", [n, 3], out, model="euler",
                     extra_model=f'initial = "sod"\nintegrator = "{integrator}"',
                     end_time=0.2, every=10, periodic=[False, True], boundary='condition = "neumann"')
        result = run_tessera(["run", tmp_path / f"{n}.toml"], ranks=3)
        assert result.returncode == 0, result.stderr
        with h5py.File(out / "results.hdf5", "r") as f:
            density = f["t0_fields/density"][0, -1].astype(np.float64)
            x, t = f["dimensions/x"][...], f["dimensions/time"][-1]
        assert t == pytest.approx(0.2)
        # The state does not vary across the tube.
        assert np.all(density == density[:, :1])
        exact = exact_riemann_density(x, t, (1, 0, 1), (0.125, 0, 0.1))
        errors.append(np.mean(np.abs(density[:, 0] - exact)))
    assert errors[0] < 0.02, errors
    for coarse, fine in zip(errors, errors[1:]):
        assert fine < 0.75 * coarse, errors


@pytest.mark.parametrize("integrator", ["split", "wave_propagation", "ssprk2"])
def test_a_periodic_shear_layer_conserves_mass_momentum_and_energy(tmp_path, integrator):
    out = tmp_path / "out"
    write_config(tmp_path / "kh.toml", [32, 32], out, model="euler",
                 extra_model=f'initial = "kelvin_helmholtz"\nintegrator = "{integrator}"',
                 end_time=0.5, every=20)
    result = run_tessera(["run", tmp_path / "kh.toml"], ranks=3)
    assert result.returncode == 0, result.stderr
    with h5py.File(out / "results.hdf5", "r") as f:
        totals = {name: f[f"scalars/{name}"][0] for name in f["scalars"].attrs["field_names"]
                  if name.startswith("total_")}
        momentum = f["t1_fields/momentum"][0].astype(np.float64)
        density = f["t0_fields/density"][0].astype(np.float64)
        volume = (1 / 32) ** 2
    assert sorted(totals) == ["total_density", "total_energy", "total_momentum_x", "total_momentum_y"]
    # The flow moved: the seed has changed shape, and so has the density.
    seed = np.max(np.abs(momentum[0, ..., 1]))
    assert np.max(np.abs(momentum[-1, ..., 1] - momentum[0, ..., 1])) > 0.5 * seed
    assert np.max(np.abs(density[-1] - density[0])) > 0.01
    for name, series in totals.items():
        # Relative to the total, or to the total magnitude where the total is about zero.
        scale = max(abs(series[0]), np.sum(np.abs(momentum[0])) * volume)
        drift = np.max(np.abs(series - series[0])) / scale
        assert drift < 1e-12, (name, drift)


def test_reflecting_walls_hold_a_heavy_fluid_over_a_light_one_under_gravity(tmp_path):
    out = tmp_path / "out"
    write_config(tmp_path / "rt.toml", [16, 48], out, model="euler",
                 extra_model='initial = "rayleigh_taylor"\ngravity = [0.0, -0.5]', end_time=2.0, every=100,
                 periodic=[True, False], boundary='condition = "reflecting"', extra="extent = [0.5, 1.5]")
    result = run_tessera(["run", tmp_path / "rt.toml"], ranks=2)
    assert result.returncode == 0, result.stderr
    with h5py.File(out / "results.hdf5", "r") as f:
        mass = f["scalars/total_density"][0]
        density = f["t0_fields/density"][0].astype(np.float64)
        bc = f["boundary_conditions"]
        assert sorted(bc) == ["x_periodic", "y_reflecting"]
    # No mass crosses a reflecting wall; the fingers have grown; density stays positive.
    assert np.max(np.abs(mass - mass[0])) / mass[0] < 1e-12
    assert density.min() > 0
    assert np.abs(density[-1] - density[0]).max() > 0.5
