"""Plots a few frames of a Tessera results.hdf5 to a PNG: `plot-results.py MODEL RESULTS PNG`.

Each model gets the view that shows it best: a slice of a 3-D field, a velocity component,
species B of Gray-Scott, the pressure and the receiver traces of a seismic shot."""

import sys

import h5py
import matplotlib
import numpy as np

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (the backend must be chosen first)


def frames_of(field, count=4):
    """`count` frames evenly spread over the run, first and last included."""
    return np.linspace(0, field.shape[0] - 1, count).round().astype(int)


def main(model, path, output):
    with h5py.File(path, "r") as f:
        time = f["dimensions/time"][...]
        if model == "burgers":
            field, name, cmap = f["t1_fields/velocity"][0, ..., 0], "velocity_x", "RdBu_r"
        elif model == "gray-scott":
            field, name, cmap = f["t0_fields/B"][0], "B", "viridis"
        else:
            group = "t0_fields"
            name = list(f[group].attrs["field_names"])[0]
            field, cmap = f[f"{group}/{name}"][0], ("seismic" if model == "wave" else "viridis")
        traces = f["receivers/traces"][...] if "receivers" in f else None
        trace_time = f["receivers/time"][...] if "receivers" in f else None
    if field.ndim == 4:  # a 3-D field: its middle slice in z
        field = field[..., field.shape[-1] // 2]
    shown = frames_of(field)
    panels = len(shown) + (traces is not None)
    figure, axes = plt.subplots(1, panels, figsize=(3.2 * panels, 3.4), constrained_layout=True)
    # One colour scale for every frame shown, so that decay and growth show.
    low, high = float(field[shown].min()), float(field[shown].max())
    for axis, frame in zip(axes, shown):
        values = field[frame].T
        if model == "wave":
            limit = max(abs(low), abs(high), 1e-12)
            axis.imshow(values, origin="upper", cmap=cmap, vmin=-limit, vmax=limit)
        else:
            axis.imshow(values, origin="lower", cmap=cmap, vmin=low, vmax=high)
        axis.set_title(f"{name}, t = {time[frame]:.3g}")
        axis.set_axis_off()
    if traces is not None:
        axis = axes[-1]
        limit = np.percentile(np.abs(traces), 99)
        axis.imshow(traces.T, aspect="auto", cmap="gray", vmin=-limit, vmax=limit,
                    extent=[0, traces.shape[0], trace_time[-1], 0])
        axis.set_title("receiver traces")
        axis.set_xlabel("receiver")
        axis.set_ylabel("t")
    figure.savefig(output, dpi=72)


if __name__ == "__main__":
    main(*sys.argv[1:4])
