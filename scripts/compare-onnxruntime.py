#!/usr/bin/env python3
"""Inference speed of mlp-train against ONNX Runtime on the same networks, paired in one run.

    compare-onnxruntime.py [--binary .build/release/mlp-train] [--rounds 3] [--seconds 1] [--json]

`mlp-train bench --suite inference --json --save-models DIR` times network B, the autoencoder's encoder and the
784 → 1024 → 1024 → 10 network in-process and saves them; `mlp-train export` writes them as ONNX (the encoder with
--end latent); ONNX Runtime (CPU, intra-op threads 1 or 2, inter-op 1, all graph optimizations) then runs each the
same way: every call timed on its own, one sample for the latency, batches of 1,024 for the throughput, uniform
inputs in [0, 1). Rounds alternate mlp-train and ONNX Runtime, and the ratios printed are the medians of the
rounds' ratios: time ratios (ours / ONNX Runtime's; below 1 is faster) for latency, speed ratios (ours / ONNX
Runtime's; above 1 is faster) for throughput. ONNX Runtime is timed from Python, so its one-sample times include
the call from Python into it (a few µs), as they would for a Python user.

Use a release build. Needs onnxruntime and numpy (scripts/requirements.txt pins them).
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np
import onnxruntime as ort

CONFIGURATIONS = [(1, 1), (1024, 1), (1024, 2)]
MODELS = {"b": ("b.safetensors", None), "encoder": ("autoencoder.safetensors", "latent"),
          "wide": ("wide.safetensors", None)}


def ours(binary, seconds, folder):
    """mlp-train's results, keyed by (model, batch, threads)."""
    command = [binary, "bench", "--suite", "inference", "--json", "--seconds", str(seconds)]
    if folder:
        command += ["--save-models", folder]
    lines = subprocess.run(command, check=True, capture_output=True, text=True).stdout.splitlines()
    results = [json.loads(line) for line in lines if line.strip()]
    return {(r["model"], r["batch"], r["threads"]): r for r in results}


def export(binary, folder):
    """Exports the saved models; returns model name → ONNX path."""
    paths = {}
    for name, (file, end) in MODELS.items():
        onnx_path = os.path.join(folder, name + ".onnx")
        command = [binary, "export", "--model", os.path.join(folder, file), "--onnx", onnx_path]
        if end:
            command += ["--end", end]
        subprocess.run(command, check=True, capture_output=True, text=True)
        paths[name] = onnx_path
    return paths


def session(path, threads):
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])


def call_times(run, seconds):
    """Seconds taken by each call of run(), called until `seconds` pass and at least 200 times, after 20."""
    for _ in range(20):
        run()
    times = []
    start = time.perf_counter()
    while len(times) < 200 or time.perf_counter() - start < seconds:
        t0 = time.perf_counter_ns()
        run()
        times.append((time.perf_counter_ns() - t0) / 1e9)
    return times


def theirs(paths, seconds):
    """ONNX Runtime's results, keyed as ours() keys them."""
    results = {}
    rng = np.random.default_rng(7)
    for name, path in paths.items():
        sessions = {}
        for batch, threads in CONFIGURATIONS:
            if threads not in sessions:
                sessions[threads] = session(path, threads)
            s = sessions[threads]
            x = rng.random((batch, 784), dtype=np.float32)
            feed = {"input": x}
            times = sorted(call_times(lambda: s.run(["output"], feed), seconds))
            median = times[len(times) // 2]
            results[(name, batch, threads)] = {
                "model": name, "batch": batch, "threads": threads, "median_us": median * 1e6,
                "p99_us": times[min(len(times) - 1, len(times) * 99 // 100)] * 1e6,
                "samples_per_s": batch / median}
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--binary", default=".build/release/mlp-train")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=1.0, help="seconds to time each configuration")
    parser.add_argument("--json", action="store_true", help="print one JSON object per configuration")
    args = parser.parse_args()
    if not os.path.exists(args.binary):
        sys.exit(f"compare-onnxruntime.py: no mlp-train at {args.binary} (swift build -c release)")
    with tempfile.TemporaryDirectory() as folder:
        rounds = []
        first = ours(args.binary, args.seconds, folder)
        paths = export(args.binary, folder)
        for r in range(args.rounds):
            mine = first if r == 0 else ours(args.binary, args.seconds, None)
            rounds.append((mine, theirs(paths, args.seconds)))
    keys = [(name, batch, threads) for name in MODELS for batch, threads in CONFIGURATIONS]
    rows = []
    for key in keys:
        mine = statistics.median(m[key]["median_us"] for m, _ in rounds)
        other = statistics.median(t[key]["median_us"] for _, t in rounds)
        mine99 = statistics.median(m[key]["p99_us"] for m, _ in rounds)
        other99 = statistics.median(t[key]["p99_us"] for _, t in rounds)
        ratio = statistics.median(m[key]["median_us"] / t[key]["median_us"] for m, t in rounds)
        rows.append({"model": key[0], "batch": key[1], "threads": key[2], "median_us": mine, "p99_us": mine99,
                     "ort_median_us": other, "ort_p99_us": other99, "samples_per_s": key[1] / mine * 1e6,
                     "ort_samples_per_s": key[1] / other * 1e6, "time_ratio": ratio, "speed_ratio": 1 / ratio})
    if args.json:
        for row in rows:
            print(json.dumps(row))
        return
    print(f"ONNX Runtime {ort.__version__}, {args.rounds} rounds, medians; time ratio = mlp-train / ONNX Runtime")
    header = ["model", "batch", "threads", "mlp-train µs", "p99", "ORT µs", "p99", "time ratio", "mlp-train/s",
              "ORT/s"]
    table = [header] + [[r["model"], str(r["batch"]), str(r["threads"]), f"{r['median_us']:.2f}",
                         f"{r['p99_us']:.2f}", f"{r['ort_median_us']:.2f}", f"{r['ort_p99_us']:.2f}",
                         f"{r['time_ratio']:.3f}", f"{r['samples_per_s']:.0f}", f"{r['ort_samples_per_s']:.0f}"]
                        for r in rows]
    widths = [max(len(row[c]) for row in table) for c in range(len(header))]
    for row in table:
        print("  ".join(cell.ljust(w) if c == 0 else cell.rjust(w) for c, (cell, w) in enumerate(zip(row, widths))))


if __name__ == "__main__":
    main()
