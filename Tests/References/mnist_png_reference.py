#!/usr/bin/env python3
"""Reference figures for the MNIST PNG mosaics, computed independently of MLPKit's loader and PCA.

Decodes the mosaics with zlib and numpy (no libpng), cuts them into 28x28 tiles, drops all-zero padding tiles,
and prints JSON with, per split: the class counts, the mean pixel (value / 255) and the share of background
(255) pixels; and for a 2-component PCA fitted on the training digits: the variance explained and the mean test
reconstruction loss (sum of squares per image, reconstructions clipped to [0, 1]).

    python3 Tests/References/mnist_png_reference.py ../shared/data/mnist-png \
        > Tests/References/mnist-png.json
"""
import json
import struct
import sys
import zlib

import numpy as np


def decode_gray_png(path):
    """An 8-bit greyscale, non-interlaced PNG as a uint8 array (height, width)."""
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", path
    pos, idat, header = 8, [], None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
    width, height, depth, color, _, _, interlace = header
    assert depth == 8 and color == 0 and interlace == 0, f"{path}: not 8-bit greyscale"
    raw = np.frombuffer(zlib.decompress(b"".join(idat)), dtype=np.uint8).reshape(height, width + 1)
    image = np.zeros((height, width), dtype=np.uint8)
    previous = np.zeros(width, dtype=np.int32)
    for y in range(height):
        kind, line = raw[y, 0], raw[y, 1:].astype(np.int32)
        if kind == 0:
            row = line
        elif kind == 1:  # Sub: running sum along the row, modulo 256
            row = np.cumsum(line) % 256
        elif kind == 2:  # Up
            row = (line + previous) % 256
        else:  # Average (3) and Paeth (4) depend on the pixel to the left: one pixel at a time
            row = np.zeros(width, dtype=np.int32)
            for x in range(width):
                left = row[x - 1] if x else 0
                up, corner = previous[x], (previous[x - 1] if x else 0)
                if kind == 3:
                    predictor = (left + up) // 2
                else:
                    p = left + up - corner
                    pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                    predictor = left if pa <= pb and pa <= pc else (up if pb <= pc else corner)
                row[x] = (line[x] + predictor) % 256
        image[y] = row
        previous = row
    return image


def load_split(folder):
    """All digit tiles of a split folder, class by class, as (count, 784) uint8, and the class counts."""
    tiles, counts = [], []
    for label in range(10):
        image = decode_gray_png(f"{folder}/{label}.png")
        rows, columns = image.shape[0] // 28, image.shape[1] // 28
        grid = image[:rows * 28, :columns * 28].reshape(rows, 28, columns, 28).transpose(0, 2, 1, 3)
        grid = grid.reshape(rows * columns, 784)
        digits = grid[grid.any(axis=1)]
        tiles.append(digits)
        counts.append(int(len(digits)))
    return np.concatenate(tiles), counts


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else "../shared/data/mnist-png"
    result = {}
    splits = {}
    for split in ("train", "test"):
        pixels, counts = load_split(f"{root}/{split}")
        splits[split] = pixels.astype(np.float64) / 255
        result[split] = {
            "count": int(len(pixels)),
            "class_counts": counts,
            "mean_pixel": float(pixels.astype(np.float64).mean() / 255),
            "background_share": float((pixels == 255).mean()),
        }
    train, test = splits["train"], splits["test"]
    mean = train.mean(axis=0)
    covariance = np.cov(train - mean, rowvar=False, bias=True)
    values, vectors = np.linalg.eigh(covariance)
    order = np.argsort(values)[::-1]
    components = vectors[:, order[:2]]
    reconstruction = np.clip((test - mean) @ components @ components.T + mean, 0, 1)
    result["pca2"] = {
        "variance_explained": float(values[order[:2]].sum() / values.sum()),
        "test_loss": float(((reconstruction - test) ** 2).sum(axis=1).mean()),
    }
    json.dump(result, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
