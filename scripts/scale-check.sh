#!/usr/bin/env bash
# Trains on data 1×, 10× and 100× the size of Fashion-MNIST's training set, packed and mapped, and prints how time
# and memory scale: the time per epoch should grow with the data and nothing else, and private memory not at all.
#
#   scripts/scale-check.sh [SCALE ...]          default: 1 10 100   (CI runs: scripts/scale-check.sh 1)
#
# For each scale S it makes S × 60,000 images (copy 0 is Fashion-MNIST's training set itself; copy k is every
# image shifted by up to 2 pixels and its ink noised by up to ±12 (the background stays 0, so every copy is as
# sparse as the original), drawn from seed k, so the data are the same on every run), writes them as IDX files, packs them with `mlp-train pack` (U8, streamed), and trains one epoch of
# 128:relu,10:softmax on the packed file (TRAIN_ARGS adds options). It prints, per scale: the packed file's size,
# the pack's time and read rate, the epoch's time and samples/s, and the peak private resident memory (RssAnon,
# sampled from /proc/PID/status every 50 ms) of pack and of train. The page cache holding the mapped file is
# shared, reclaimable memory and is not counted. Needs Debian's dataset-fashion-mnist and numpy
# ($MLP_PYTHON, .build-venv, or python3). Work files go to .build-scale/ (S = 100 takes about 10 GB of disk).
set -euo pipefail
cd "$(dirname "$0")/.."
scales=("$@")
[ ${#scales[@]} -eq 0 ] && scales=(1 10 100)
fashion=/usr/share/datasets/fashion-mnist
[ -f "$fashion/train-images-idx3-ubyte.gz" ] || { echo "scale-check: $fashion is missing (apt-get install dataset-fashion-mnist)" >&2; exit 1; }
python="${MLP_PYTHON:-}"
[ -z "$python" ] && [ -x .build-venv/bin/python3 ] && python=.build-venv/bin/python3
[ -z "$python" ] && python=python3
"$python" -c "import numpy" 2>/dev/null || { echo "scale-check: $python has no numpy" >&2; exit 1; }
swift build -c release --product mlp-train >/dev/null
binary="$(swift build -c release --show-bin-path)/mlp-train"
work=.build-scale
mkdir -p "$work"

# Runs a command, its output going to the log given first, and prints "SECONDS PEAK_RSSANON_KB"; fails with it.
measure() {
    local log="$1"; shift
    local start end peak=0 rss
    start=$(date +%s%N)
    "$@" >"$log" 2>&1 &
    local pid=$!
    while kill -0 "$pid" 2>/dev/null; do
        rss=$(awk '/^RssAnon:/ {print $2}' "/proc/$pid/status" 2>/dev/null || true)
        [ -n "$rss" ] && [ "$rss" -gt "$peak" ] && peak=$rss
        sleep 0.05
    done
    wait "$pid" || { echo "scale-check: failed: $* (see $log)" >&2; tail -5 "$log" >&2; exit 1; }
    end=$(date +%s%N)
    local elapsed=$(( end - start ))
    printf '%d.%03d %s\n' $(( elapsed / 1000000000 )) $(( elapsed / 1000000 % 1000 )) "$peak"
}

printf '%-6s %10s %10s %9s %9s %9s %9s %12s %9s\n' scale images "file MB" "pack s" "pack MB/s" "pack MB" \
    "epoch s" "samples/s" "train MB"
for scale in "${scales[@]}"; do
    data="$work/fashion-x$scale"
    mkdir -p "$data"
    if [ ! -f "$data/train-labels-idx1-ubyte" ]; then
        "$python" - "$fashion" "$data" "$scale" <<'PYTHON'
import gzip, sys
import numpy as np
source, folder, scale = sys.argv[1], sys.argv[2], int(sys.argv[3])
images = np.frombuffer(gzip.open(source + "/train-images-idx3-ubyte.gz").read()[16:], np.uint8).reshape(-1, 28, 28)
labels = np.frombuffer(gzip.open(source + "/train-labels-idx1-ubyte.gz").read()[8:], np.uint8)
n = len(images) * scale
def header(magic, shape):
    return bytes([0, 0, 8, magic]) + b"".join(int(s).to_bytes(4, "big") for s in shape)
with open(folder + "/train-images-idx3-ubyte.part", "wb") as out:
    out.write(header(3, (n, 28, 28)))
    for k in range(scale):
        if k == 0:
            out.write(images.tobytes())
            continue
        rng = np.random.default_rng(k)
        dy, dx = rng.integers(-2, 3, size=2)
        shifted = np.zeros_like(images)
        shifted[:, max(dy, 0):28 + min(dy, 0), max(dx, 0):28 + min(dx, 0)] = \
            images[:, max(-dy, 0):28 + min(-dy, 0), max(-dx, 0):28 + min(-dx, 0)]
        # Noise on the ink only: the background stays 0, so every copy is as sparse as the original.
        noised = shifted.astype(np.int16) + rng.integers(-12, 13, size=shifted.shape, dtype=np.int16)
        out.write(np.where(shifted > 0, np.clip(noised, 1, 255), 0).astype(np.uint8).tobytes())
with open(folder + "/train-labels-idx1-ubyte.part", "wb") as out:
    out.write(header(1, (n,)))
    out.write(np.tile(labels, scale).tobytes())
PYTHON
        mv "$data/train-images-idx3-ubyte.part" "$data/train-images-idx3-ubyte"
        mv "$data/train-labels-idx1-ubyte.part" "$data/train-labels-idx1-ubyte"
    fi
    packed="$work/fashion-x$scale.safetensors"
    result=$(measure "$work/pack-x$scale.log" "$binary" pack --data "$data" --output "$packed")
    read -r pack_seconds pack_peak <<< "$result"
    # Trained with the page cache warm: the file was just written (TRAIN_ARGS may add --shuffle window:N …).
    rm -rf "$work/train-x$scale"
    # shellcheck disable=SC2086
    result=$(measure "$work/train-x$scale.log" "$binary" train --data "$packed" \
        --layers 128:relu,10:softmax --epochs 1 --output "$work/train-x$scale" ${TRAIN_ARGS:-})
    read -r _ train_peak <<< "$result"
    "$python" - "$scale" "$packed" "$data/train-images-idx3-ubyte" "$pack_seconds" "$pack_peak" \
        "$work/train-x$scale/summary.json" "$train_peak" <<'PYTHON'
import json, os, sys
scale, packed, images, pack_seconds, pack_peak, summary, train_peak = sys.argv[1:]
s = json.load(open(summary))
mb = 1e6
print(f"{scale + 'x':<6} {s['trainSamples']:>10} {os.path.getsize(packed) / mb:>10.1f} {float(pack_seconds):>9.1f} "
      f"{os.path.getsize(images) / mb / float(pack_seconds):>9.0f} {int(pack_peak) / 1024:>9.1f} "
      f"{s['trainingSeconds']:>9.1f} {s['samplesPerSecond']:>12.0f} {int(train_peak) / 1024:>9.1f}")
PYTHON
done
