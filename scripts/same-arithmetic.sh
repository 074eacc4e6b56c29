#!/usr/bin/env bash
# Checks that a refactor changed no arithmetic: runs disc, classify and autoencoder (batches of 16, 256 and 384;
# SGD, Adam, and Nesterov momentum with weight decay) from fixed seeds on 1 and 2 threads and compares the SHA-256
# of what they write (models, and disc's per-epoch losses) with the digests recorded in
# scripts/same-arithmetic.sha256. `--record` writes that file instead.
#
#   scripts/same-arithmetic.sh            # build (release), run, compare; exits 1 on any difference
#   scripts/same-arithmetic.sh --record   # after a change that is meant to change the numbers
#
# Needs MNIST (MLP_DATA, default ../shared/data/mnist-png). The digests hold for this project's machine kind:
# another CPU may round differently (the build targets the native CPU).
set -euo pipefail
cd "$(dirname "$0")/.."
record=false
[ "${1:-}" = "--record" ] && record=true
data="${MLP_DATA:-$(cd .. && pwd)/shared/data/mnist-png}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
if ! swift build -c release --product mlp-train >"$work/build.log" 2>&1; then
    cat "$work/build.log" >&2
    exit 1
fi
tool="$(swift build -c release --show-bin-path)/mlp-train"

"$tool" disc --epochs 20 --no-frames --output "$work/disc" >/dev/null 2>&1      # per-sample SGD: one thread
for threads in 1 2; do
    out="$work/t$threads"
    "$tool" classify --epochs 2 --threads "$threads" --data "$data" --output "$out/classify" >/dev/null 2>&1
    "$tool" autoencoder --epochs 1 --threads "$threads" --data "$data" --output "$out/autoencoder" >/dev/null 2>&1
    # Batches of 256 are two shards: the parallel reduction and the sparse layer's blocked step.
    "$tool" autoencoder --epochs 1 --batch-size 256 --learning-rate 1e-5 --threads "$threads" --data "$data" \
        --output "$out/autoencoder-256" >/dev/null 2>&1
    # Batches of 384 are three shards (more shards than threads); Adam at batch 16 is one shard with the rule fused
    # into the pass; Nesterov momentum with weight decay at batch 384 sums three shards before the rule.
    "$tool" autoencoder --epochs 1 --batch-size 384 --learning-rate 1e-5 --threads "$threads" --data "$data" \
        --output "$out/autoencoder-384" >/dev/null 2>&1
    "$tool" autoencoder --epochs 1 --optimizer adam --threads "$threads" --data "$data" \
        --output "$out/autoencoder-adam" >/dev/null 2>&1
    "$tool" autoencoder --epochs 1 --batch-size 384 --optimizer momentum --nesterov --learning-rate 1e-5 \
        --weight-decay 0.01 --threads "$threads" --data "$data" --output "$out/autoencoder-momentum-384" >/dev/null 2>&1
done
digests="$(cd "$work" && sha256sum disc/metrics.csv t*/classify/network-*.safetensors t*/autoencoder*/model.safetensors)"
if $record; then
    echo "$digests" > scripts/same-arithmetic.sha256
    echo "recorded:"; echo "$digests"
elif diff <(echo "$digests") scripts/same-arithmetic.sha256; then
    echo "same arithmetic: all $(echo "$digests" | wc -l) files are byte-identical to the recorded ones"
else
    echo "the numbers changed (< now, > recorded)" >&2
    exit 1
fi
