"""PyTorch's BLAS at its speed: Debian's OpenBLAS picks its kernels from the CPU's model number, and on a CPU it
does not know (a newer Xeon, or one a virtual machine names vaguely) it falls back to generic SSE3 kernels
("Core: Prescott"), 4-6x slower. The comparison scripts call `choose()` before they import torch: it times a
256x1024x1024 product in a fresh process for the detected core and for each candidate below, and sets
OPENBLAS_CORETYPE to the fastest, unless OPENBLAS_CORETYPE is already set."""
import os
import subprocess
import sys

CANDIDATES = ["SkylakeX", "Haswell", "Zen"]
PROBE = """
import os, re, time, torch
torch.set_num_threads(1)
a, b = torch.randn(256, 1024), torch.randn(1024, 1024)
for _ in range(3): a @ b.t()
started = time.perf_counter()
for _ in range(10): a @ b.t()
print(2 * 256 * 1024 * 1024 * 10 / (time.perf_counter() - started) / 1e9)
"""


def probe(core):
    """GFLOP/s of the product with OPENBLAS_CORETYPE=core (None: OpenBLAS's own choice), and the core it ran."""
    environment = dict(os.environ, OPENBLAS_NUM_THREADS="1", OPENBLAS_VERBOSE="2")
    environment.pop("OPENBLAS_CORETYPE", None)
    if core:
        environment["OPENBLAS_CORETYPE"] = core
    result = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, env=environment)
    if result.returncode != 0:
        return 0.0, "?"
    named = [line.split(":", 1)[1].strip() for line in result.stdout.splitlines() + result.stderr.splitlines()
             if line.startswith("Core:")]
    return float(result.stdout.split()[-1]), named[0] if named else "?"


def choose():
    """Sets OPENBLAS_CORETYPE to the fastest core type (when unset) and returns a line saying what was chosen."""
    if "OPENBLAS_CORETYPE" in os.environ:
        return f"OpenBLAS core type {os.environ['OPENBLAS_CORETYPE']} (as set)"
    detected_speed, detected = probe(None)
    best_speed, best = detected_speed, None
    for core in CANDIDATES:
        speed, _ = probe(core)
        if speed > 1.1 * best_speed:
            best_speed, best = speed, core
    if best is None:
        return f"OpenBLAS core {detected} (its own choice; {detected_speed:.0f} GFLOP/s on one thread)"
    os.environ["OPENBLAS_CORETYPE"] = best
    return (f"OpenBLAS core type {best}: {best_speed:.0f} GFLOP/s on one thread, against {detected_speed:.0f} with "
            f"the core it detects ({detected})")
