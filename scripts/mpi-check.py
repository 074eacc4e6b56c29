#!/usr/bin/env python3
"""Checks training across processes (`mpirun -np P mlp-train autoencoder ...`) on this machine's loopback.

    scripts/mpi-check.py MPI_BINARY PLAIN_BINARY      (CI: .ci/run builds both and calls this)

MPI_BINARY is built with `swift build --traits MPI`, PLAIN_BINARY without. Needs Open MPI's mpirun and MNIST
($MLP_DATA, else ../shared/data/mnist-png). Every check prints one line; the script exits 1 if any fails:

1. the same weights: a one-process run (2 threads, the default sparse first layer) and mpirun -np 2 and -np 3
   (1 thread each; batches of 384 are 3 shards of 128) write byte-identical model.safetensors; so do a dense
   first layer's (--dense-first-layer) one-process and -np 2 runs, and the default options' (batches of 16);
2. a clean stop and a resume on another P: mpirun -np 2 stopped by SIGUSR1 (mpirun passes it to every rank; the
   ranks agree to stop after the same step and rank 0 writes the checkpoint and summary.json), resumed with
   -np 3, ends with the reference's model bytes;
3. a rank that dies (SIGKILL) ends the whole job, quickly and non-zero, instead of leaving the others waiting;
4. a rank that hangs (SIGSTOP) is caught by the others' watchdog (MLP_MPI_TIMEOUT=5): the job ends, saying why;
5. a build without MPI support refuses to run under mpirun, and so does per-sample `classify`.
"""
import os
import signal
import subprocess
import sys
import tempfile
import time

MPI_BINARY, PLAIN_BINARY = (os.path.abspath(p) for p in sys.argv[1:3])
DATA = os.environ.get("MLP_DATA") or os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data", "mnist-png")
MPIRUN = ["mpirun", "--allow-run-as-root", "--oversubscribe"]
# One epoch at batches of 384 (3 shards of 128); a small rate keeps it finite, whatever it learns.
JOB = ["autoencoder", "--epochs", "1", "--batch-size", "384", "--learning-rate", "2e-5", "--data", DATA]
failures = 0


def report(ok, name, detail=""):
    global failures
    failures += 0 if ok else 1
    print(f"{'ok  ' if ok else 'FAIL'} {name:<58} {detail}", flush=True)


def run(command, timeout=600, env=None):
    started = time.time()
    result = subprocess.run(command, capture_output=True, text=True, timeout=timeout,
                            env={**os.environ, **(env or {})})
    return result, time.time() - started


def model(folder):
    with open(os.path.join(folder, "model.safetensors"), "rb") as f:
        return f.read()


def children(pid):
    """The ranks mpirun started (its child processes)."""
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def wait_for(path, process, seconds=120):
    deadline = time.time() + seconds
    while not os.path.exists(path):
        if process.poll() is not None or time.time() > deadline:
            return False
        time.sleep(0.05)
    return True


work = tempfile.mkdtemp(prefix="mpi-check-")
out = lambda name: os.path.join(work, name)

# 1. The same weights for 1, 2 and 3 processes: with the sparse first layer (the default) and the dense one, and
# the default options (batches of 16: one shard, computed by rank 0).
DEFAULT_JOB = ["autoencoder", "--epochs", "1", "--data", DATA]
for name, job, counts in (("sparse", JOB, (2, 3)), ("dense", JOB + ["--dense-first-layer"], (2,)),
                          ("default", DEFAULT_JOB, (2,))):
    reference, seconds = run([MPI_BINARY] + job + ["--threads", "2", "--output", out(f"one-{name}")])
    report(reference.returncode == 0, f"one process, 2 threads, {name}", f"{seconds:.0f} s")
    if reference.returncode != 0:
        print(reference.stderr)
        sys.exit(1)
    for processes in counts:
        folder = out(f"np{processes}-{name}")
        result, seconds = run(MPIRUN + ["-np", str(processes), MPI_BINARY] + job + ["--threads", "1",
                                                                                    "--output", folder])
        same = result.returncode == 0 and model(folder) == model(out(f"one-{name}"))
        exchange = [line for line in result.stderr.splitlines() if line.startswith("gradient exchange")]
        report(same, f"mpirun -np {processes}, {name}: model bytes equal one process's",
               f"{seconds:.0f} s; {exchange[0] if exchange else result.stderr[-300:]}")

# 2. Stopped on 2 processes, resumed on 3.
stopped = subprocess.Popen(MPIRUN + ["-np", "2", MPI_BINARY] + JOB + ["--threads", "1", "--checkpoint-every", "20",
                                                                       "--output", out("stopped")],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
if wait_for(out("stopped/checkpoint.safetensors"), stopped):
    stopped.send_signal(signal.SIGUSR1)
_, errors = stopped.communicate(timeout=120)
summary = open(out("stopped/summary.json")).read() if os.path.exists(out("stopped/summary.json")) else ""
interrupted = "Resume with:" in errors and '"interrupted"' in summary and '"SIGUSR1"' in summary
report(stopped.returncode != 0 and interrupted, "mpirun -np 2 stopped by SIGUSR1: checkpoint and summary",
       f"exit {stopped.returncode}" + ("" if interrupted else f"; {summary[:200]} {errors[-300:]}"))
resumed, seconds = run(MPIRUN + ["-np", "3", MPI_BINARY] + JOB + ["--threads", "1", "--output", out("stopped"),
                                                                   "--resume", out("stopped/checkpoint.safetensors")])
report(resumed.returncode == 0 and model(out("stopped")) == model(out("one-sparse")),
       "resumed on -np 3: model bytes equal the one-process run's", f"{seconds:.0f} s")

# 3 and 4. A rank that dies, a rank that hangs.
for name, sig, env in (("killed (SIGKILL)", signal.SIGKILL, {}),
                       ("stopped (SIGSTOP), watchdog at 5 s", signal.SIGSTOP, {"MLP_MPI_TIMEOUT": "5"})):
    job = subprocess.Popen(MPIRUN + ["-np", "2", MPI_BINARY] + JOB + ["--threads", "1", "--checkpoint-every", "5",
                                                                       "--output", out("dies")],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, **env})
    if wait_for(out("dies/checkpoint.safetensors"), job):
        ranks = children(job.pid)
        os.kill(ranks[-1], sig)
    started = time.time()
    try:
        _, errors = job.communicate(timeout=90)
        ended = time.time() - started
        said = "no answer from the other ranks" in errors if sig == signal.SIGSTOP else "killed" in errors.lower() \
            or "signal 9" in errors or "exited on signal" in errors
        report(job.returncode != 0 and said, f"a rank {name}: the job ends", f"after {ended:.1f} s, exit {job.returncode}")
    except subprocess.TimeoutExpired:
        job.kill()
        report(False, f"a rank {name}: the job ends", "still running after 90 s")
    subprocess.run(["rm", "-rf", out("dies")])

# 5. Refusals.
plain, _ = run(MPIRUN + ["-np", "2", PLAIN_BINARY] + JOB + ["--output", out("plain")], timeout=120)
report(plain.returncode != 0 and "this build has no MPI support" in plain.stderr,
       "a build without MPI refuses to run under mpirun", f"exit {plain.returncode}")
classify, _ = run(MPIRUN + ["-np", "2", MPI_BINARY, "classify", "--epochs", "1", "--data", DATA], timeout=120)
report(classify.returncode != 0 and "does not split across processes" in classify.stderr,
       "per-sample classify refuses to run under mpirun", f"exit {classify.returncode}")

subprocess.run(["rm", "-rf", work])
print("all MPI checks passed" if failures == 0 else f"{failures} MPI check(s) failed")
sys.exit(1 if failures else 0)
