#!/usr/bin/env bash
# Regenerates the committed Swift code for the protocol buffers in Protos/ (ONNX's messages, TensorBoard's event
# files), with protoc and
# swift-protobuf's protoc-gen-swift at the version Package.swift names (1.39.0):
#
#   apt-get install -y protobuf-compiler
#   git clone https://github.com/apple/swift-protobuf /tmp/swift-protobuf
#   git -C /tmp/swift-protobuf checkout 1.39.0
#   (cd /tmp/swift-protobuf && swift build --product protoc-gen-swift)
#   scripts/generate-protos.sh /tmp/swift-protobuf/.build/debug/protoc-gen-swift
#
# The generated files are committed, so a build needs neither protoc nor the plugin.
set -euo pipefail
cd "$(dirname "$0")/.."
plugin="${1:?usage: scripts/generate-protos.sh PATH-TO-protoc-gen-swift}"
out=Sources/MLPInterop/Generated
mkdir -p "$out"
protoc --plugin=protoc-gen-swift="$plugin" --swift_opt=Visibility=Package --swift_out="$out" -I Protos \
    Protos/onnx.proto Protos/tensorboard.proto
echo "wrote $out/onnx.pb.swift and $out/tensorboard.pb.swift"
