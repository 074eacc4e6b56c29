#!/usr/bin/env python3
"""Training speed of `mlp-train train` against PyTorch on networks of your own, in turn on the same machine:
Fashion-MNIST (IDX files), the same layers, batch, Adam (learning rate 1e-3) and summed cross-entropy, the same
initialization scale (weights and biases drawn from N(0, 0.1²)), one epoch on each side, on 1 and 2 threads.

    scripts/compare-torch.py --binary .build/release/mlp-train [--data DIR] [--rounds R] [--threads 1,2]
                             [--networks 1024:relu,1024:relu,10:softmax@256;128:relu,10:softmax@32]
    scripts/compare-torch.py --binary .build/release/mlp-train --recipe [--seeds 0,1] [--threads 2]

--recipe compares test accuracy instead: RECIPE (784-256-10, He initialization, SGD with momentum 0.9 at 0.01,
batches of 64, the mean cross-entropy, 5 epochs) trained by PyTorch and by `mlp-train train` for each seed, and
the difference of the mean accuracies (a recipe tuned in PyTorch must carry over).

Needs numpy and PyTorch (Debian: `apt-get install python3-torch libopenblas0-pthread`; without OpenBLAS, PyTorch's
BLAS is the reference one, 10x slower). Run it with the Python that has them (Debian's: /usr/bin/python3).
--data defaults to Debian's dataset-fashion-mnist (/usr/share/datasets/fashion-mnist).

Each round runs, for every network and thread count, PyTorch's epoch then ours (one after the other, so both see
the same machine), and prints both speeds in training samples/s: PyTorch's over its training steps, ours the
figure `mlp-train train --epochs 1` prints for the epoch. The table gives each side's best run and the median of
the paired ratios ours ÷ PyTorch. PyTorch runs in processes of its own, on T threads as the faster of
torch.set_num_threads(T) with OpenBLAS on one thread and the other way round, with OpenBLAS's fastest kernels (scripts/openblas_core.py:
on a CPU it does not recognise it falls back to generic ones, 4-6x slower); ours with --threads T.
"""
import argparse
import gzip
import os
import re
import statistics
import subprocess
import sys
import time

HERE = os.path.abspath(__file__)
NETWORKS = "1024:relu,1024:relu,10:softmax@256;256:relu,128:relu,10:softmax@128;128:relu,10:softmax@32"


def read_idx(path):
    """An IDX file (gzipped or not) as a numpy array."""
    import numpy as np
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as handle:
        data = handle.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def find(folder, stem):
    """The training file named `stem` in folder, gzipped or not."""
    for name in (stem, stem + ".gz"):
        if os.path.exists(os.path.join(folder, name)):
            return os.path.join(folder, name)
    sys.exit(f"compare-torch.py: no {stem}[.gz] in {folder}")


def pytorch_epoch(data, layers, batch, threads):
    """Runs in its own process (OpenBLAS reads its thread count at start): samples/s of one epoch of steps, with
    `threads` of PyTorch's own (OpenBLAS's come from the environment)."""
    import numpy as np
    import torch
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    images = read_idx(find(data, "train-images-idx3-ubyte"))
    labels = read_idx(find(data, "train-labels-idx1-ubyte"))
    x = torch.from_numpy(images.reshape(len(images), -1).astype(np.float32) / 255)
    y = torch.from_numpy(labels.astype(np.int64))
    modules, width = [], x.shape[1]
    for entry in layers.split(","):
        units, activation = entry.split(":")
        linear = torch.nn.Linear(width, int(units))
        with torch.no_grad():
            linear.weight.normal_(0, 0.1)
            linear.bias.normal_(0, 0.1)
        modules.append(linear)
        if activation == "relu":
            modules.append(torch.nn.ReLU())
        width = int(units)
    net = torch.nn.Sequential(*modules)   # the softmax is inside cross_entropy
    rule = torch.optim.Adam(net.parameters(), lr=1e-3)
    order = torch.randperm(len(x))
    started = time.perf_counter()
    for start in range(0, len(order) - batch + 1, batch):
        rows = order[start:start + batch]
        rule.zero_grad()
        loss = torch.nn.functional.cross_entropy(net(x[rows]), y[rows], reduction="sum")
        loss.backward()
        rule.step()
    return (len(order) // batch * batch) / (time.perf_counter() - started)


def theirs(data, layers, batch, threads):
    """PyTorch's samples/s, from a process of its own. On T > 1 threads, the better of two ways to use them: T of
    PyTorch's threads with OpenBLAS on one, or one of PyTorch's with OpenBLAS on T (both on T oversubscribe the
    cores: measured here, the 1024-wide network ran at half the speed)."""
    speeds = []
    for ours_, blas in sorted({(threads, 1), (1, threads)}):
        environment = dict(os.environ, OPENBLAS_NUM_THREADS=str(blas), OMP_NUM_THREADS=str(ours_))
        command = [sys.executable, HERE, "--pytorch-run", layers, str(batch), str(ours_), "--data", data]
        result = subprocess.run(command, capture_output=True, text=True, env=environment)
        if result.returncode != 0:
            sys.exit(f"PyTorch's run failed:\n{result.stderr[-2000:]}")
        speeds.append(float(result.stdout.split()[-1]))
    return max(speeds)


def ours(binary, data, layers, batch, threads):
    """Our samples/s over one epoch (the figure `mlp-train train` prints)."""
    command = [binary, "train", "--data", data, "--layers", layers, "--optimizer", "adam", "--learning-rate", "1e-3",
               "--loss-reduction", "sum", "--batch-size", str(batch), "--epochs", "1", "--threads", str(threads),
               "--output", "/tmp/compare-torch"]
    result = subprocess.run(command, capture_output=True, text=True)
    found = re.findall(r"(\d+) samples/s", result.stdout + result.stderr)
    if result.returncode != 0 or not found:
        sys.exit(f"{' '.join(command)} failed:\n{result.stderr[-2000:]}")
    return float(found[-1])


# --recipe: a PyTorch recipe run on both sides, compared by test accuracy (issue: a recipe must carry over).
RECIPE = dict(layers="256:relu,10:softmax", momentum=0.9, learning_rate=0.01, batch=64, epochs=5)


def pytorch_recipe(data, seed, threads):
    """Test accuracy of the recipe in PyTorch: He (Kaiming) normal weights, zero biases, SGD with momentum, the
    mean cross-entropy, batches in a fresh shuffle every epoch (the last, shorter one included)."""
    import numpy as np
    import torch
    torch.set_num_threads(threads)
    torch.manual_seed(seed)

    def load(prefix):
        images = read_idx(find(data, f"{prefix}-images-idx3-ubyte"))
        labels = read_idx(find(data, f"{prefix}-labels-idx1-ubyte"))
        x = torch.from_numpy(images.reshape(len(images), -1).astype(np.float32) / 255)
        return x, torch.from_numpy(labels.astype(np.int64))

    (x, y), (test_x, test_y) = load("train"), load("t10k")
    modules, width = [], x.shape[1]
    for entry in RECIPE["layers"].split(","):
        units, activation = entry.split(":")
        linear = torch.nn.Linear(width, int(units))
        torch.nn.init.kaiming_normal_(linear.weight, nonlinearity="relu")
        torch.nn.init.zeros_(linear.bias)
        modules.append(linear)
        if activation == "relu":
            modules.append(torch.nn.ReLU())
        width = int(units)
    net = torch.nn.Sequential(*modules)
    rule = torch.optim.SGD(net.parameters(), lr=RECIPE["learning_rate"], momentum=RECIPE["momentum"])
    for _ in range(RECIPE["epochs"]):
        order = torch.randperm(len(x))
        for start in range(0, len(order), RECIPE["batch"]):
            rows = order[start:start + RECIPE["batch"]]
            rule.zero_grad()
            torch.nn.functional.cross_entropy(net(x[rows]), y[rows]).backward()
            rule.step()
    with torch.no_grad():
        return (net(test_x).argmax(1) == test_y).float().mean().item()


def ours_recipe(binary, data, seed, threads):
    """Test accuracy of the same recipe in `mlp-train train` (the IDX folder's t10k files are its test split)."""
    output = f"/tmp/compare-torch-recipe-{seed}"
    command = [binary, "train", "--data", data, "--layers", RECIPE["layers"], "--init", "he",
               "--optimizer", "momentum", "--momentum", str(RECIPE["momentum"]),
               "--learning-rate", str(RECIPE["learning_rate"]), "--batch-size", str(RECIPE["batch"]),
               "--loss-reduction", "mean", "--epochs", str(RECIPE["epochs"]), "--seed", str(seed),
               "--threads", str(threads), "--output", output]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"{' '.join(command)} failed:\n{result.stderr[-2000:]}")
    import json
    with open(os.path.join(output, "summary.json")) as handle:
        return json.load(handle)["testAccuracy"]


def recipe(args):
    """Prints each seed's test accuracy on both sides and the difference of the means."""
    print(f"recipe: {RECIPE}; data {args.data}", flush=True)
    threads = int(args.threads.split(",")[-1])
    mine, theirs_ = [], []
    for seed in args.seeds:
        command = [sys.executable, HERE, "--pytorch-recipe", str(seed), str(threads), "--data", args.data]
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode != 0:
            sys.exit(f"PyTorch's recipe failed:\n{result.stderr[-2000:]}")
        theirs_.append(float(result.stdout.split()[-1]))
        mine.append(ours_recipe(args.binary, args.data, seed, threads))
        print(f"seed {seed}: ours {100 * mine[-1]:.2f}%, PyTorch {100 * theirs_[-1]:.2f}%", flush=True)
    ours_mean, theirs_mean = statistics.mean(mine), statistics.mean(theirs_)
    print(f"mean over {len(mine)} seeds: ours {100 * ours_mean:.2f}%, PyTorch {100 * theirs_mean:.2f}% "
          f"(ours − PyTorch: {100 * (ours_mean - theirs_mean):+.2f} points)")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--binary")
    parser.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--networks", default=NETWORKS, help="layers@batch, separated by ;")
    parser.add_argument("--recipe", action="store_true",
                        help="compare test accuracy after a PyTorch recipe instead of speed (see RECIPE)")
    parser.add_argument("--seeds", type=lambda text: [int(s) for s in text.split(",")], default=[0, 1])
    parser.add_argument("--pytorch-run", nargs=3, metavar=("LAYERS", "BATCH", "THREADS"), help=argparse.SUPPRESS)
    parser.add_argument("--pytorch-recipe", nargs=2, metavar=("SEED", "THREADS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.pytorch_run:
        layers, batch, threads = args.pytorch_run
        print(pytorch_epoch(args.data, layers, int(batch), int(threads)))
        return
    if args.pytorch_recipe:
        print(pytorch_recipe(args.data, int(args.pytorch_recipe[0]), int(args.pytorch_recipe[1])))
        return
    if not args.binary:
        parser.error("--binary is required")
    try:
        import torch
    except ImportError as error:
        sys.exit(f"compare-torch.py needs numpy and PyTorch ({error}): apt-get install python3-torch, and run it "
                 "with /usr/bin/python3")
    sys.path.insert(0, os.path.dirname(HERE))
    import openblas_core
    print(openblas_core.choose(), flush=True)
    if args.recipe:
        recipe(args)
        return
    networks = [(n.rsplit("@", 1)[0], int(n.rsplit("@", 1)[1])) for n in args.networks.split(";")]
    thread_counts = [int(t) for t in args.threads.split(",")]
    blas = os.path.realpath("/usr/lib/x86_64-linux-gnu/libblas.so.3")   # Debian's BLAS alternative
    print(f"PyTorch {torch.__version__}, BLAS {blas}; data {args.data}; {args.rounds} rounds", flush=True)
    results = {}
    for round_ in range(args.rounds):
        for layers, batch in networks:
            for threads in thread_counts:
                them = theirs(args.data, layers, batch, threads)
                us = ours(args.binary, args.data, layers, batch, threads)
                results.setdefault((layers, batch, threads), []).append((us, them))
                print(f"round {round_ + 1}: {layers}, batch {batch}, {threads} thread(s): ours {us:.0f}, "
                      f"PyTorch {them:.0f} samples/s", flush=True)
    print("\n| layers | batch | threads | ours, best (samples/s) | PyTorch, best | ours ÷ PyTorch, median of pairs |")
    print("|---|---|---|---|---|---|")
    for (layers, batch, threads), pairs in results.items():
        best_ours, best_theirs = max(p[0] for p in pairs), max(p[1] for p in pairs)
        ratio = statistics.median(p[0] / p[1] for p in pairs)
        print(f"| {layers} | {batch} | {threads} | {best_ours:.0f} | {best_theirs:.0f} | x{ratio:.2f} |")


if __name__ == "__main__":
    main()
