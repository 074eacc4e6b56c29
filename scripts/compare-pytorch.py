#!/usr/bin/env python3
"""Training speed of the autoencoder against PyTorch, in turn on the same machine: the homework's
784-512-256-128-2-128-256-512-784 network (leaky ReLU 0.01, logistic at the code and the output), the summed
squared loss, the same batch, learning rate and update rule, on the training digits, 1 and 2 threads.

    scripts/compare-pytorch.py --binary .build/release/mlp-train [--data DIR] [--rounds R] [--seconds S]
                               [--configurations sgd:16,adam:16,momentum:16,sgd:256] [--threads 1,2]

Needs numpy and PyTorch (Debian: `apt-get install python3-torch`; with `libopenblas0-pthread` installed, as
here, PyTorch's BLAS is OpenBLAS instead of the reference BLAS, which is 10x slower; scripts/openblas_core.py then
makes sure OpenBLAS runs its fastest kernels). Run it with the Python that has them (Debian's: /usr/bin/python3).

For each round and each configuration and thread count it times PyTorch for --seconds of steps (after a warm-up)
and ours for one epoch (`mlp-train autoencoder --epochs 1`, its samples/s figure: training steps only), one after
the other, and prints the medians and the median of the paired ratios ours ÷ PyTorch. PyTorch runs with
torch.set_num_threads(T) and OpenBLAS held to one thread (its own threads on top of PyTorch's oversubscribe the
cores); ours with --threads T. Our first layer is sparse with SGD (the default), dense with the other rules, as
`mlp-train autoencoder` chooses; PyTorch's is dense.
"""
import argparse
import importlib.util
import os
import re
import statistics
import subprocess
import sys
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import openblas_core  # noqa: E402  (it sets OPENBLAS_CORETYPE, which must come before torch is imported)
BLAS_CHOICE = openblas_core.choose()
try:
    import numpy as np
    import torch
except ImportError as error:
    sys.exit(f"compare-pytorch.py needs numpy and PyTorch ({error}): apt-get install python3-torch, and run it "
             "with /usr/bin/python3")

HERE = os.path.dirname(os.path.abspath(__file__))


def load_digits(folder):
    """The training digits as float32 in [0, 1], decoded by the tests' numpy reader of the PNG mosaics."""
    path = os.path.join(HERE, "..", "Tests", "References", "mnist_png_reference.py")
    spec = importlib.util.spec_from_file_location("mnist_png_reference", path)
    reader = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(reader)
    pixels, _ = reader.load_split(os.path.join(folder, "train"))
    return torch.from_numpy(pixels.astype(np.float32) / 255)


def autoencoder():
    sizes = [784, 512, 256, 128, 2, 128, 256, 512, 784]
    layers = []
    for i in range(8):
        layers.append(torch.nn.Linear(sizes[i], sizes[i + 1]))
        layers.append(torch.nn.Sigmoid() if i in (3, 7) else torch.nn.LeakyReLU(0.01))
    return torch.nn.Sequential(*layers)


def optimizer(name, parameters, rate):
    if name == "adam":
        return torch.optim.Adam(parameters, lr=rate)
    if name == "momentum":
        return torch.optim.SGD(parameters, lr=rate, momentum=0.9)
    return torch.optim.SGD(parameters, lr=rate)


def pytorch_rate(digits, rule, batch, threads, seconds, rate):
    """Samples/s of PyTorch's training steps over `seconds`, after 20 steps of warm-up."""
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    net = autoencoder()
    step_rule = optimizer(rule, net.parameters(), rate)
    order = torch.randperm(len(digits))
    position = 0

    def step():
        nonlocal position
        if position + batch > len(order):
            position = 0
        x = digits[order[position:position + batch]]
        position += batch
        step_rule.zero_grad()
        loss = ((net(x) - x) ** 2).sum()
        loss.backward()
        step_rule.step()

    for _ in range(20):
        step()
    steps, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        step()
        steps += 1
    return steps * batch / (time.perf_counter() - started)


def our_rate(binary, data, rule, batch, threads, rate):
    """Samples/s of our training steps over one epoch (the figure `mlp-train autoencoder` prints)."""
    command = [binary, "autoencoder", "--epochs", "1", "--batch-size", str(batch), "--threads", str(threads),
               "--optimizer", rule, "--learning-rate", str(rate), "--data", data, "--output", "/tmp/compare-pytorch"]
    result = subprocess.run(command, capture_output=True, text=True)
    found = re.findall(r"(\d+) samples/s on", result.stdout + result.stderr)
    if result.returncode != 0 or not found:
        sys.exit(f"{' '.join(command)} failed:\n{result.stderr[-2000:]}")
    return float(found[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--binary", required=True)
    parser.add_argument("--data", default=os.environ.get("MLP_DATA")
                        or os.path.join(HERE, "..", "..", "shared", "data", "mnist-png"))
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--configurations", default="sgd:16,adam:16,momentum:16,sgd:256")
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--learning-rate", type=float, default=1e-4)
    args = parser.parse_args()
    digits = load_digits(args.data)
    configurations = [(c.split(":")[0], int(c.split(":")[1])) for c in args.configurations.split(",")]
    thread_counts = [int(t) for t in args.threads.split(",")]
    blas = os.path.realpath("/usr/lib/x86_64-linux-gnu/libblas.so.3")   # Debian's BLAS alternative
    print(f"PyTorch {torch.__version__}, BLAS {blas}; {BLAS_CHOICE}; {len(digits)} digits; {args.rounds} rounds",
          flush=True)
    results = {}
    for round_ in range(args.rounds):
        for rule, batch in configurations:
            for threads in thread_counts:
                theirs = pytorch_rate(digits, rule, batch, threads, args.seconds, args.learning_rate)
                ours = our_rate(args.binary, args.data, rule, batch, threads, args.learning_rate)
                results.setdefault((rule, batch, threads), []).append((ours, theirs))
                print(f"round {round_ + 1}: {rule} batch {batch}, {threads} thread(s): ours {ours:.0f}, "
                      f"PyTorch {theirs:.0f} samples/s", flush=True)
    print("\n| rule | batch | threads | ours (samples/s) | PyTorch | ours ÷ PyTorch, median of pairs |")
    print("|---|---|---|---|---|---|")
    for (rule, batch, threads), pairs in results.items():
        ours = statistics.median(p[0] for p in pairs)
        theirs = statistics.median(p[1] for p in pairs)
        ratio = statistics.median(p[0] / p[1] for p in pairs)
        print(f"| {rule} | {batch} | {threads} | {ours:.0f} | {theirs:.0f} | x{ratio:.2f} |")


if __name__ == "__main__":
    main()
