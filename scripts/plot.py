#!/usr/bin/env python3
"""Pictures of a Tessera results file (or any file in The Well's layout), with matplotlib.

    python3 scripts/plot.py output/heat/results.hdf5 [--out FOLDER] [--frame N]

writes into FOLDER (default: beside the file, in <stem>-plots/):
  <field>.png   the frame (default the last) of every field, one panel per component of a
                vector or tensor: a line in 1-D, an image in 2-D, and the three slices through
                the middle of the grid in 3-D; x to the right, y (or z) up, in the file's units;
  scalars.png   every per-frame scalar (conserved totals, misfits) over time.
It needs h5py, numpy and matplotlib (`python3 -m pip install h5py matplotlib`).
"""

import argparse
import pathlib
import sys

import h5py
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

AXES = ("x", "y", "z")


def edges(centres):
    """Cell edges from cell centres (uniform cells)."""
    h = centres[1] - centres[0] if len(centres) > 1 else 2 * centres[0]
    return np.concatenate([[centres[0] - h / 2], centres + h / 2])


def components(name, data, order, d):
    """(label, array over the grid) for each component of a field's frame."""
    if order == 0:
        return [(name, data)]
    if order == 1:
        return [(f"{name}_{AXES[a]}", data[..., a]) for a in range(d)]
    return [(f"{name}_{AXES[a]}{AXES[b]}", data[..., a, b]) for a in range(d) for b in range(d)]


def image(axis, values, horizontal, vertical, labels, title):
    """values[i, j] at (horizontal[i], vertical[j]): drawn with the first axis to the right."""
    mesh = axis.pcolormesh(edges(horizontal), edges(vertical), values.T, shading="flat", cmap="viridis")
    axis.set_aspect("equal")
    axis.set_xlabel(labels[0])
    axis.set_ylabel(labels[1])
    axis.set_title(title, fontsize=9)
    plt.colorbar(mesh, ax=axis, shrink=0.8)


def plot_field(path, label_data, coordinates, time):
    d = len(coordinates)
    rows = len(label_data)
    columns = 3 if d == 3 else 1
    figure, axes = plt.subplots(rows, columns, figsize=(4.5 * columns, 3.6 * rows), squeeze=False)
    for row, (label, values) in enumerate(label_data):
        if d == 1:
            axis = axes[row][0]
            axis.plot(coordinates[0], values)
            axis.set_xlabel("x")
            axis.set_ylabel(label)
            axis.set_title(f"{label}, t = {time:.6g}", fontsize=9)
        elif d == 2:
            image(axes[row][0], values, coordinates[0], coordinates[1], ("x", "y"), f"{label}, t = {time:.6g}")
        else:
            middle = [len(c) // 2 for c in coordinates]
            cuts = [((0, 1), values[:, :, middle[2]], f"z = {coordinates[2][middle[2]]:.4g}"),
                    ((0, 2), values[:, middle[1], :], f"y = {coordinates[1][middle[1]]:.4g}"),
                    ((1, 2), values[middle[0], :, :], f"x = {coordinates[0][middle[0]]:.4g}")]
            for column, ((a, b), cut, where) in enumerate(cuts):
                image(axes[row][column], cut, coordinates[a], coordinates[b], (AXES[a], AXES[b]),
                      f"{label} at {where}, t = {time:.6g}")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def plot_scalars(path, f, times):
    series = []
    for name, dataset in f.get("scalars", {}).items():
        if dataset.ndim == 2 and dataset.shape[1] == len(times) and len(times) > 0:
            series.append((name, dataset[0]))
    if not series:
        return False
    figure, axes = plt.subplots(len(series), 1, figsize=(6, 2.6 * len(series)), squeeze=False)
    for axis, (name, values) in zip(axes[:, 0], series):
        axis.plot(times, values, marker=".")
        axis.set_xlabel("t")
        axis.set_ylabel(name)
        axis.ticklabel_format(useOffset=False, axis="y")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return True


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("results", type=pathlib.Path, help="a results file in The Well's layout")
    parser.add_argument("--out", type=pathlib.Path, help="the folder for the pictures (default <stem>-plots)")
    parser.add_argument("--frame", type=int, default=-1, help="the frame to draw (default the last)")
    parser.add_argument("--trajectory", type=int, default=0, help="the trajectory, in a dataset of several")
    args = parser.parse_args(argv)
    out = args.out or args.results.with_name(args.results.stem + "-plots")
    out.mkdir(parents=True, exist_ok=True)
    written = []
    with h5py.File(args.results, "r") as f:
        d = int(f.attrs["n_spatial_dims"])
        coordinates = [f["dimensions"][a][...] for a in AXES[:d]]
        times = f["dimensions/time"][...]
        times = times if times.ndim == 1 else times[args.trajectory]
        if len(times) == 0:
            sys.exit(f"{args.results} holds no frames yet")
        frame = args.frame if args.frame >= 0 else len(times) + args.frame
        if not 0 <= frame < len(times):
            sys.exit(f"{args.results} holds {len(times)} frames; there is no frame {args.frame}")
        for order in range(3):
            for name, dataset in f.get(f"t{order}_fields", {}).items():
                data = dataset[args.trajectory, frame]
                path = out / f"{name}.png"
                plot_field(path, components(name, data, order, d), coordinates, times[frame])
                written.append(path)
        if plot_scalars(out / "scalars.png", f, times):
            written.append(out / "scalars.png")
    for path in written:
        print(path)


if __name__ == "__main__":
    main()
