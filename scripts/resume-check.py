#!/usr/bin/env python3
"""Stops real MNIST training runs with a signal mid-epoch and resumes them (on another thread count where the
job has threads): the final models must equal those of uninterrupted runs byte for byte, the metrics must continue
without duplicates, and the checkpoint must read with Python's `safetensors` when it is installed (else with a
plain reader of the format).

    python3 scripts/resume-check.py [path/to/mlp-train]      (default .build/release/mlp-train; $MLP_DATA as usual)
"""
import json
import os
import signal
import struct
import subprocess
import sys
import tempfile
import time

BINARY = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else ".build/release/mlp-train")


def header(path):
    """The safetensors header of `path` (a dict), read the plain way: 8-byte length, then JSON."""
    with open(path, "rb") as f:
        (size,) = struct.unpack("<Q", f.read(8))
        return json.loads(f.read(size))


def metadata(path):
    try:
        return header(path).get("__metadata__", {})
    except (OSError, ValueError, struct.error):
        return {}


def read_tensors(path):
    """Every tensor of `path`: with the safetensors package when present, else from the header and raw bytes."""
    try:
        from safetensors.numpy import load_file
        return "safetensors", {name: value.tolist() for name, value in load_file(path).items()}
    except ImportError:
        head = header(path)
        with open(path, "rb") as f:
            data = f.read()[8 + struct.unpack("<Q", open(path, "rb").read(8))[0]:]
        tensors = {}
        for name, info in head.items():
            if name == "__metadata__":
                continue
            assert info["dtype"] == "F32", (name, info["dtype"])
            begin, end = info["data_offsets"]
            count = (end - begin) // 4
            tensors[name] = list(struct.unpack("<%df" % count, data[begin:end]))
        return "plain reader", tensors


def run(arguments, folder):
    result = subprocess.run([BINARY] + arguments, cwd=folder, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit("FAILED: mlp-train %s exited %d:\n%s" % (" ".join(arguments), result.returncode, result.stderr))
    return result


def stopped(arguments, folder, ready, sig):
    """Starts mlp-train, sends `sig` once ready() holds, and checks the exit status 128 + sig."""
    process = subprocess.Popen([BINARY] + arguments, cwd=folder, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               text=True)
    deadline = time.time() + 600
    while not ready():
        if process.poll() is not None:
            sys.exit("FAILED: the run ended before it could be stopped:\n" + process.stderr.read())
        if time.time() > deadline:
            process.kill()
            sys.exit("FAILED: the run never became ready to stop")
        time.sleep(0.02)
    process.send_signal(sig)
    err = process.communicate()[1]
    if process.returncode != 128 + sig:
        sys.exit("FAILED: exit status %d after signal %d, expected %d:\n%s" % (process.returncode, sig, 128 + sig, err))
    if "Resume with:" not in err:
        sys.exit("FAILED: no resume command printed:\n" + err)
    return err


def rows(path, columns):
    """The metrics' rows, cut to their first `columns` columns (the rest are timings)."""
    with open(path) as f:
        return [",".join(line.split(",")[:columns]) for line in f.read().splitlines()]


def check(name, job, options, stop_options, resume_options, files, ready_when, sig, columns):
    folder = tempfile.mkdtemp(prefix="resume-check-")
    started = time.time()
    run([job] + options + ["--output", "whole"], folder)
    checkpoint = os.path.join(folder, "stopped", "checkpoint.safetensors")
    stopped([job] + options + stop_options + ["--output", "stopped"], folder,
            lambda: ready_when(metadata(checkpoint)), sig)
    saved = metadata(checkpoint)
    where = "epoch %s, sample %s" % (saved.get("training.epoch"), saved.get("training.position"))
    reader, tensors = read_tensors(checkpoint)
    run([job] + options + resume_options + ["--output", "stopped", "--resume", "stopped/checkpoint.safetensors"],
        folder)
    for file in files:
        with open(os.path.join(folder, "whole", file), "rb") as a, open(os.path.join(folder, "stopped", file), "rb") as b:
            if a.read() != b.read():
                sys.exit("FAILED: %s: %s differs after stopping at %s and resuming" % (name, file, where))
    if rows(os.path.join(folder, "whole", "metrics.csv"), columns) != rows(os.path.join(folder, "stopped", "metrics.csv"), columns):
        sys.exit("FAILED: %s: metrics.csv does not continue the interrupted run's rows" % name)
    print("ok  %-58s stopped at %-22s %d tensors read by %s; %.0f s" % (name, where, len(tensors), reader,
                                                                      time.time() - started))
    subprocess.run(["rm", "-rf", folder])


def mid_epoch(meta, **wanted):
    return meta.get("training.position", "0") != "0" and all(meta.get(k) == v for k, v in wanted.items())


check("classify A+B, SIGINT during B (per-sample, sparse)", "classify",
      ["--epochs", "2", "--threads", "1"], ["--checkpoint-every", "15000"], [],
      ["network-a.safetensors", "network-b.safetensors"],
      lambda m: mid_epoch(m, **{"job.network": '"b"', "training.epoch": "1"}), signal.SIGINT, 6)
check("autoencoder b256, SIGTERM on 2 threads, resumed on 1", "autoencoder",
      ["--epochs", "2", "--batch-size", "256", "--threads", "1"], ["--threads", "2", "--checkpoint-every", "50"],
      [], ["model.safetensors"], lambda m: mid_epoch(m), signal.SIGTERM, 4)
check("autoencoder Adam b64, SIGINT on 1 thread, resumed on 2", "autoencoder",
      ["--epochs", "2", "--batch-size", "64", "--optimizer", "adam", "--learning-rate", "0.0001", "--threads", "1"],
      ["--checkpoint-every", "400"], ["--threads", "2"], ["model.safetensors"],
      lambda m: mid_epoch(m, **{"training.epoch": "2"}), signal.SIGINT, 4)
print("all resumed runs equal their uninterrupted twins")
