#!/usr/bin/env python3
"""Checks an ONNX file written by `mlp-train export` against the outputs mlp-train computed for the same inputs.

    check-onnx.py MODEL.onnx INPUTS.f32 EXPECTED.f32 ROWS [classes]

INPUTS and EXPECTED are raw little-endian float32 arrays of ROWS rows (the column counts come from the model).
onnx.checker must accept the file (full check, with shape inference), and ONNX Runtime (CPU, one thread) must give
EXPECTED within 5e-5 (max absolute difference: both compute in Float, in different orders) and, with `classes`,
the same predicted class (the largest output) in every row. Prints one JSON object; exits 1 when a check fails.
Needs onnx, onnxruntime and numpy (.ci/run installs pinned versions into .build-venv).
"""
import json
import sys

import numpy as np
import onnx
import onnxruntime as ort


def main():
    path, inputs_path, expected_path, rows = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    model = onnx.load(path)
    onnx.checker.check_model(model, full_check=True)
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
    x = np.fromfile(inputs_path, dtype="<f4").reshape(rows, -1)
    expected = np.fromfile(expected_path, dtype="<f4").reshape(rows, -1)
    (got,) = session.run(["output"], {"input": x})
    difference = float(np.max(np.abs(got - expected)))
    classes = len(sys.argv) > 5 and sys.argv[5] == "classes"
    same = int(np.sum(np.argmax(got, axis=1) == np.argmax(expected, axis=1))) if classes else rows
    report = {"rows": rows, "outputs": int(got.shape[1]), "max_abs_difference": difference, "same_class": same,
              "opset": int(model.opset_import[0].version), "metadata": {p.key: p.value for p in model.metadata_props}}
    print(json.dumps(report))
    return 0 if difference <= 5e-5 and same == rows else 1


if __name__ == "__main__":
    sys.exit(main())
