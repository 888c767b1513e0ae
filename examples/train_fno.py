"""Trains The Well's FNO on a Tessera ensemble with The Well's own data module and Trainer.

    mpirun -n 2 tessera ensemble examples/ensemble-gray-scott.toml
    python3 examples/train_fno.py output/ensemble-gray-scott

Needs `pip install "the_well[benchmark]"` (PyTorch, neuraloperator, wandb). Runs on a laptop's
CPU in a few minutes; a GPU is used when there is one. Prints, per epoch, the training loss
and the validation VRMSE of one-step predictions next to that of predicting no change (the
last input frame), and writes a picture of a rollout on a validation trajectory. With
`--summary FILE` it also writes those numbers as JSON.

the_well 1.2.0's `WellDataModule` accepts only The Well's own dataset names; passing each
split's `path` through `dataset_kws` (as below) loads any dataset in its layout.
"""

import argparse
import json
import os
import tempfile

import torch

SPLITS = ["train", "val", "rollout_val", "test", "rollout_test"]


class LastFrame(torch.nn.Module):
    """Predicts no change: the last input frame's fields (the channels-first input stacks
    each input frame's fields in time order)."""

    def __init__(self, n_fields: int):
        super().__init__()
        self.n_fields = n_fields
        self.unused = torch.nn.Parameter(torch.zeros(()))  # the Trainer reports a parameter norm

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x[:, -self.n_fields :]


def data_module(root: str, batch_size: int, n_steps_input: int, workers: int):
    """The Well's data module over the ensemble at `root`, Z-score normalised with the
    training split's stats.yaml (which the ensemble writes)."""
    from the_well.data import WellDataModule
    from the_well.data.normalization import ZScoreNormalization

    root = os.path.abspath(root)
    return WellDataModule(
        well_base_path=os.path.dirname(root),
        well_dataset_name=os.path.basename(root),
        batch_size=batch_size,
        use_normalization=True,
        normalization_type=ZScoreNormalization,
        n_steps_input=n_steps_input,
        n_steps_output=1,
        max_rollout_steps=100,
        data_workers=workers,
        # Any dataset name, not only The Well's: each split reads `path`.
        dataset_kws={split: {"path": root} for split in SPLITS},
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("root", help="the ensemble's output folder (holds data/ and stats.yaml)")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--inputs", type=int, default=4, help="frames the model sees (n_steps_input)")
    parser.add_argument("--modes", type=int, default=16, help="Fourier modes per axis")
    parser.add_argument("--hidden", type=int, default=32, help="FNO channels")
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--workers", type=int, default=0, help="data loader processes")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--picture", help="rollout picture (default ROOT/rollout.png)")
    parser.add_argument("--summary", help="write the losses and metrics here as JSON")
    args = parser.parse_args()

    import wandb
    from the_well.benchmark.metrics import MSE
    from the_well.benchmark.models import FNO
    from the_well.benchmark.trainer import Trainer

    torch.manual_seed(args.seed)
    wandb.init(mode="disabled")  # the Trainer logs to Weights & Biases; keep it local
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    data = data_module(args.root, args.batch_size, args.inputs, args.workers)
    meta = data.train_dataset.metadata
    model = FNO(
        dim_in=args.inputs * meta.n_fields + meta.n_constant_fields,
        dim_out=meta.n_fields,
        n_spatial_dims=meta.n_spatial_dims,
        spatial_resolution=meta.spatial_resolution,
        modes1=args.modes,
        modes2=args.modes,
        modes3=args.modes,
        hidden_channels=args.hidden,
    ).to(device)
    work = tempfile.mkdtemp(prefix="train-fno-")

    def trainer_for(network: torch.nn.Module) -> Trainer:
        return Trainer(
            checkpoint_folder=work, artifact_folder=work, viz_folder=work,
            formatter="channels_first_default", model=network, datamodule=data,
            optimizer=torch.optim.Adam(network.parameters(), lr=args.lr), loss_fn=MSE(),
            epochs=args.epochs, checkpoint_frequency=0, val_frequency=1, rollout_val_frequency=args.epochs,
            max_rollout_steps=100, short_validation_length=10**9, make_rollout_videos=False,
            num_time_intervals=1, device=device)

    trainer = trainer_for(model)
    key = f"valid_{meta.dataset_name}/full_VRMSE_T=all"
    _, baseline = trainer_for(LastFrame(meta.n_fields).to(device)).validation_loop(data.val_dataloader(), full=True)
    print(f"no change (last input frame): validation VRMSE {baseline[key]:.4f}")
    train_dataloader = data.train_dataloader()
    losses, validation = [], []
    for epoch in range(1, args.epochs + 1):
        loss, _ = trainer.train_one_epoch(epoch, train_dataloader)
        _, metrics = trainer.validation_loop(data.val_dataloader(), full=True, epoch=epoch)
        losses.append(loss)
        validation.append(metrics[key])
        print(f"epoch {epoch:3d}: training loss {loss:.4f}, validation VRMSE {metrics[key]:.4f}")

    # A rollout from the first frames of a validation trajectory, fed its own predictions.
    batch = next(iter(data.rollout_val_dataloader()))
    with torch.inference_mode():
        predicted, reference = trainer.rollout_model(model, batch, trainer.formatter, train=False)
    picture = args.picture or os.path.join(args.root, "rollout.png")
    draw_rollout(predicted[0].cpu().numpy(), reference[0].cpu().numpy(), meta, picture)
    print(f"rollout picture: {picture}")
    if args.summary:
        with open(args.summary, "w") as f:
            json.dump({"training_loss": losses, "validation_vrmse": validation,
                       "last_frame_vrmse": baseline[key], "picture": picture,
                       "steps_per_epoch": len(train_dataloader)}, f, indent=1)


def draw_rollout(predicted, reference, meta, path: str) -> None:
    """The first field, reference over prediction, at four times of the rollout (2-D data;
    the middle slice along the last axis of 3-D data)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    steps = predicted.shape[0]
    times = sorted({0, steps // 3, 2 * steps // 3, steps - 1})
    name = meta.field_names[0][0] if meta.field_names[0] else "field 0"
    figure, axes = plt.subplots(2, len(times), figsize=(3 * len(times), 6), squeeze=False)
    for column, t in enumerate(times):
        for row, (label, data) in enumerate([("reference", reference), ("FNO", predicted)]):
            frame = data[t, ..., 0]
            if frame.ndim == 3:
                frame = frame[..., frame.shape[-1] // 2]
            axis = axes[row][column]
            image = axis.imshow(frame.T if frame.ndim == 2 else frame[None], origin="lower", cmap="viridis")
            axis.set_title(f"{label}, step {t + 1}")
            axis.set_xticks([])
            axis.set_yticks([])
            figure.colorbar(image, ax=axis, fraction=0.046)
    figure.suptitle(f"{meta.dataset_name}: {name}, rolled out from the first frames")
    figure.tight_layout()
    figure.savefig(path, dpi=80)


if __name__ == "__main__":
    main()
