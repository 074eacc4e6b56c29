#!/usr/bin/env python3
"""Writes a PyTorch network for `mlp-train import` to read, and its outputs to compare against.

    torch-reference.py OUT_DIR

Into OUT_DIR: `state.safetensors` (the state dict of an nn.Sequential of six Linear layers, keys 0 … 10, with
ReLU, Tanh, Sigmoid, ReLU, LeakyReLU(0.2) and Softmax between them; the safetensors format written by hand, so
only torch is needed), `model.onnx` (the same module through torch.onnx.export, opset 13, dynamic batch),
`x.f32` (64 × 6 inputs) and `y.f32` (the module's outputs, 64 × 3), raw little-endian float32. Prints the
Linear keys and the layer spec that describes the module. Needs torch (Debian's python3-torch).
"""
import json
import os
import struct
import sys

import torch


def save_safetensors(tensors, path):
    header, offset, blobs = {}, 0, []
    for name, tensor in tensors.items():
        data = tensor.detach().to(torch.float32).contiguous().numpy().astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(tensor.shape), "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
        blobs.append(data)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(0)
    layers = [torch.nn.Linear(6, 8), torch.nn.ReLU(), torch.nn.Linear(8, 8), torch.nn.Tanh(),
              torch.nn.Linear(8, 8), torch.nn.Sigmoid(), torch.nn.Linear(8, 8), torch.nn.ReLU(),
              torch.nn.Linear(8, 8), torch.nn.LeakyReLU(0.2), torch.nn.Linear(8, 3), torch.nn.Softmax(dim=1)]
    model = torch.nn.Sequential(*layers).eval()
    x = torch.randn(64, 6)
    with torch.no_grad():
        y = model(x)
    save_safetensors(model.state_dict(), os.path.join(out, "state.safetensors"))
    torch.onnx.export(model, x, os.path.join(out, "model.onnx"), opset_version=13, input_names=["input"],
                      output_names=["output"], dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}})
    x.numpy().astype("<f4").tofile(os.path.join(out, "x.f32"))
    y.numpy().astype("<f4").tofile(os.path.join(out, "y.f32"))
    print(json.dumps({"keys": list(model.state_dict().keys()),
                      "layers": "8:relu,8:tanh,8:logistic,8:relu,8:leaky-relu:0.2,3:softmax"}))


if __name__ == "__main__":
    main()
