#!/usr/bin/env python3
"""Mutation testing: small, named breakages of the code that the test suite must catch.

Each mutant replaces one exact piece of a source file (it must occur exactly once) in a scratch copy of the
working tree (.build-mutants/tree, git-ignored, built incrementally), builds the tests there, and runs the
tests named for it; the mutant is killed when they fail. Before the mutants, the same tests run on the
unmutated copy and must pass, so that a kill means something. Prints a kill table and exits non-zero when a
mutant survives, no longer applies (its text is gone: update the list), or fails to compile.

    scripts/mutants.py                    # every mutant (about a minute each on 2 cores)
    scripts/mutants.py --list             # names and the tests that must fail
    scripts/mutants.py NAME [NAME ...]    # only these

MNIST-dependent tests read MLP_DATA (default: ../shared/data/mnist-png beside the checkout).
Run it before and after a refactor; add a mutant for each bug a change could bring back.
"""
import argparse
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRATCH = os.path.join(ROOT, ".build-mutants", "tree")


@dataclass
class Mutant:
    name: str
    file: str
    original: str
    mutated: str
    tests: str  # a `swift test --filter` regular expression
    why: str


MUTANTS = [
    Mutant("claims-ignore-other-workers", "Sources/MLPKit/Engine/StepSync.swift",
           "        claims[block].load(ordering: .relaxed) == step\n            &&",
           "        true || claims[block].load(ordering: .relaxed) == step\n            &&",
           "DataParallelTrainerTests",
           "every worker runs every block it walks: blocks of a step run twice whenever more than one worker runs"),
    Mutant("update-skips-last-shard", "Sources/MLPKit/Kernels/UpdateKernels.swift",
           "        var sum = load8(shards[0] + i)\n        var s = 1\n        while s < count {",
           "        var sum = load8(shards[0] + i)\n        var s = 1\n        while s < count - 1 {",
           "DataParallelTrainerTests",
           "the update leaves the last shard's gradient out of the sum"),
    Mutant("update-tail-nan", "Sources/MLPKit/Kernels/UpdateKernels.swift",
           "body(&p, g.partial(i, lanes: lanes), &a, &b)", "body(&p, g.partial(i, lanes: lanes) * .nan, &a, &b)",
           "DataParallelTrainerTests|UpdateKernelTests",
           "the update's padded last vector writes NaN (comparisons must not be blind to NaN)"),
    Mutant("single-shard-accumulates", "Sources/MLPKit/Engine/StepRunner.swift",
           ".descend(learningRate: step.learningRate), dy: dy,", ".accumulate, dy: dy,",
           "DataParallelTrainerTests",
           "a one-shard batch adds its gradient to the parameters instead of stepping"),
    Mutant("sparse-row-sums-frozen", "Sources/MLPKit/Engine/SparseFirstLayer.swift",
           "rowSums.pointer[j] -= rate * d[j] * zSum\n", "\n",
           "DataParallelTrainerTests|SparsePerSampleTests",
           "the sparse first layer's running row sums V·1 stop following V"),
    Mutant("sparse-bias-step-sign", "Sources/MLPKit/Engine/SparseFirstLayer.swift",
           "bias[j] -= rate * d[j]", "bias[j] += rate * d[j]",
           "DataParallelTrainerTests|SparsePerSampleTests",
           "the sparse first layer's bias steps uphill"),
    Mutant("sparse-u-update-dropped", "Sources/MLPKit/Engine/SparseFirstLayer.swift",
           "u.pointer[j] -= rate * c * d[j]\n", "\n",
           "DataParallelTrainerTests",
           "the mini-batch sparse first layer forgets the background's share of the update"),
    Mutant("sparse-single-sample-skips-last-input", "Sources/MLPKit/Engine/SparseBatch.swift",
           "        if let single { return single }",
           "        if let single { return (single.indices, single.values, max(single.count - 1, 0)) }",
           "SparsePerSampleTests",
           "per-sample SGD's sparse forward pass leaves out a sample's last non-background input"),
    Mutant("epoch-start-skips-restart", "Sources/MLPKit/Training/Trainer.swift",
           "    func beginEpoch() { sparse?.layer.restart() }", "    func beginEpoch() {}",
           "SparsePerSampleTests",
           "per-sample SGD no longer starts each epoch from W, so it departs from a batch-of-one step"),
    Mutant("adam-bias-correction-dropped", "Sources/MLPKit/Training/Optimizer.swift",
           "correction1: 1 - powf(beta1, t), correction2: 1 - powf(beta2, t)",
           "correction1: 1, correction2: 1",
           "TrainerTests",
           "Adam without its bias corrections"),
    Mutant("nesterov-ignored", "Sources/MLPKit/Kernels/UpdateKernels.swift",
           "p -= nesterov ? eta * (g + mu * v) : eta * v", "p -= eta * v",
           "TrainerTests",
           "Nesterov momentum steps like plain momentum"),
    Mutant("optimizer-reduction-skips-a-shard", "Sources/MLPKit/Kernels/UpdateKernels.swift",
           "var sum = load8(shards[0] + i)\n        var s = 1", "var sum = load8(shards[0] + i)\n        var s = 2",
           "TrainerTests|UpdateKernelTests",
           "the summed gradient for momentum and Adam leaves out the second shard"),
    Mutant("sparse-layer-stale-after-a-read", "Sources/MLPKit/Training/DataParallelTrainer.swift",
           "            sparse?.changed = true\n            return after(k, loss)", "            return after(k, loss)",
           "TrainerTests",
           "a network read between two steps of a run (an event) leaves the sparse layer's later steps out of W"),
    Mutant("stale-network-read", "Sources/MLPKit/Engine/MLP.swift",
           "get { synchronize(); return parameterBuffer.array }", "get { parameterBuffer.array }",
           "TrainerTests",
           "reading the parameters mid-training returns the sparse layer's stale W"),
    Mutant("dropped-logistic-derivative", "Sources/MLPKit/Engine/Activation.swift",
           "for i in 0..<count { delta[i] *= a[i] * (1 - a[i]) }", "for i in 0..<count { delta[i] *= 1 }",
           "GradientCheckTests",
           "the logistic activation's derivative σ(1 − σ) is dropped"),
    Mutant("leaky-relu-slope-dropped", "Sources/MLPKit/Engine/Activation.swift",
           "where !(a[i] > 0) { delta[i] *= slope }", "where !(a[i] > 0) { delta[i] *= 1 }",
           "GradientCheckTests",
           "leaky ReLU's backward pass ignores the slope for negative inputs"),
    Mutant("dropped-bias-gradient", "Sources/MLPKit/Kernels/DenseBackwardWeights.swift",
           "a += load8(dy + (r &* n &+ c))", "a += 0 * load8(dy + (r &* n &+ c))",
           "KernelTests|EngineTests",
           "db loses dy for layers of 8 or more outputs"),
    Mutant("forward-tail-off-by-one", "Sources/MLPKit/Kernels/DenseForward.swift",
           "while i < k {\n        let v0 = w0[i], v1 = w1[i], v2 = w2[i]",
           "while i < k - 1 {\n        let v0 = w0[i], v1 = w1[i], v2 = w2[i]",
           "KernelTests",
           "the forward kernel's scalar tail stops one input early"),
    Mutant("fused-output-gradient-sign", "Sources/MLPKit/Engine/Loss.swift",
           "for i in 0..<count { delta[i] = yhat[i] - y[i] }", "for i in 0..<count { delta[i] = y[i] - yhat[i] }",
           "GradientCheckTests|PerSampleSGDTests",
           "softmax + cross-entropy and logistic + logistic loss backpropagate ŷ − y with the wrong sign"),
    Mutant("gif-rectangle-mixes-bytes-and-pixels", "Sources/MLPImaging/GIFFile.swift",
           "while first < left * 3, now", "while first < left, now",
           "GIFTests",
           "a GIF frame's changed rectangle is measured in bytes on one side and pixels on the other"),
    Mutant("predict-ignores-polarity", "Sources/MLPJobs/Jobs/DigitImage.swift",
           "inverted = background.map { $0 != paper } ?? false", "inverted = false",
           "PredictAndEvaluateTests",
           "predict feeds light-on-dark images to a model trained on dark-on-light digits"),
    Mutant("resize-ignores-overlap", "Sources/MLPJobs/Jobs/DigitImage.swift",
           "let overlap = min(end, Double(j + 1)) - max(start, Double(j))", "let overlap = 1.0",
           "PredictAndEvaluateTests",
           "area averaging weighs partly covered pixels as whole ones"),
    Mutant("mosaic-padding-kept", "Sources/MLPData/MosaicLoader.swift",
           "if !blank { tiles.append(tile) }", "tiles.append(tile)",
           "DatasetTests",
           "the mosaic loader keeps the all-zero padding tiles as digits"),
    Mutant("per-sample-step-sign", "Sources/MLPKit/Kernels/DenseBackwardWeights.swift",
           "rank1Step(dw, db, dy, x, scale: -rate, k: k, n: n)", "rank1Step(dw, db, dy, x, scale: rate, k: k, n: n)",
           "PerSampleSGDTests|KernelTests",
           "per-sample SGD's fused update steps uphill"),
    Mutant("reading-recomputes-row-sums", "Sources/MLPKit/Engine/SparseFirstLayer.swift",
           "for j in 0..<n { for i in 0..<k { w[j * k + i] = vT.pointer[i * stride + j] + u.pointer[j] } }\n    }",
           "for j in 0..<n { for i in 0..<k { w[j * k + i] = vT.pointer[i * stride + j] + u.pointer[j] } }\n"
           "        recomputeRowSums()\n    }",
           "ResumeTests",
           "reading the network mid-epoch (a checkpoint) recomputes the sparse layer's row sums: saving changes the run"),
    Mutant("resume-drops-sparse-state", "Sources/MLPKit/Training/Trainer.swift",
           "case (let layer?, let saved?): try layer.restore(saved)", "case (_?, _?): break",
           "ResumeTests",
           "a mid-epoch resume starts the sparse first layer afresh from W instead of its saved V, u and row sums"),
    Mutant("resume-drops-optimizer-state", "Sources/MLPKit/Training/Trainer.swift",
           "if let optimizer = trainer.optimizer, !fresh {", "if let optimizer = trainer.optimizer, !fresh, false {",
           "ResumeTests",
           "a resume forgets momentum's v and Adam's moments"),
    Mutant("stop-without-checkpoint", "Sources/MLPKit/Training/Trainer.swift",
           "                route.capture(into: &state)\n                try onEvent(.checkpoint(state))",
           "                route.capture(into: &state)\n                if stop?.isRequested != true { try onEvent(.checkpoint(state)) }",
           "ResumeTests|CleanStopTests",
           "a stop request ends the run without offering the checkpoint of where it stopped"),
    Mutant("no-loss-guard", "Sources/MLPKit/Training/Trainer.swift",
           "guard loss.isFinite else { failure = \"the loss became \\(nonFiniteName(Double(loss)))\"; return }",
           "_ = loss",
           "ResumeTests|CleanStopTests",
           "per-sample SGD trains on through a NaN loss"),

    # The step plan: one mutant per kind of task.
    Mutant("plan-skips-the-last-block", "Sources/MLPKit/Engine/StepRunner.swift",
           "        let step = current!\n",
           "        let step = current!\n        if block == task.blocks - 1 && task.blocks > 1 { sync.increment(t); return }\n",
           "DataParallelTrainerTests|GradientCheckTests",
           "every task's last block is left undone"),
    Mutant("load-skips-a-target-row", "Sources/MLPKit/Engine/StepRunner.swift",
           "        for r in range { step.targets.copyRow(", "        for r in range.dropLast() { step.targets.copyRow(",
           "GradientCheckTests|DataParallelTrainerTests",
           "a shard's load leaves the last row of each block with another batch's target"),
    Mutant("forward-block-without-activation", "Sources/MLPKit/Engine/StepRunner.swift",
           "            if task.fold { layer.activation.forward(y, rows: rows, stride: n, columns: range) }",
           "            _ = task.fold",
           "GradientCheckTests|DataParallelTrainerTests",
           "a forward block leaves its outputs before the activation"),
    Mutant("forward-tail-skips-a-row", "Sources/MLPKit/Engine/StepRunner.swift",
           "                             from: denseBlockRows(m: rows, k: k), m: rows, k: k, n: n)",
           "                             from: denseBlockRows(m: rows, k: k) + 1, m: rows, k: k, n: n)",
           "GradientCheckTests|DataParallelTrainerTests",
           "the forward pass skips the first row past the blocked ones"),
    Mutant("shard-losses-drop-the-last", "Sources/MLPKit/Engine/StepRunner.swift",
           "for s in plan.rows.indices { loss += Double(losses.pointer[s]) }",
           "for s in plan.rows.indices.dropLast() { loss += Double(losses.pointer[s]) }",
           "DataParallelTrainerTests",
           "a step's loss leaves out its last shard"),
    Mutant("plan-parts-in-the-wrong-slots", "Sources/MLPKit/Engine/StepRunner.swift",
           "denseBackwardInputPart(partPointers[s] + block * fullRows * k,",
           "denseBackwardInputPart(partPointers[s] + (task.blocks - 1 - block) * fullRows * k,",
           "DataParallelTrainerTests",
           "dL/dx's parts are added in another order than the one kernel adds its tiles"),
    Mutant("input-gradient-without-derivative", "Sources/MLPKit/Engine/StepRunner.swift",
           "                net.layers[l - 1].activation.backward(dx, output: undropped(l, s), rows: rows, stride: k,\n                                                      columns: range)\n",
           "",
           "GradientCheckTests|DataParallelTrainerTests",
           "a block of dL/dx misses the activation's derivative below"),
    Mutant("fused-rule-skips-the-bias", "Sources/MLPKit/Engine/StepRunner.swift",
           "            applyUpdate(step.rule, p, range: b ..< b + range.count, gradient: db)\n", "\n",
           "DataParallelTrainerTests",
           "a fused rule moves a block's weights but not its biases"),
    Mutant("update-skips-the-bias", "Sources/MLPKit/Engine/StepRunner.swift",
           "                applyUpdate(rule, p, range: biases, shards: gradientPointers, count: shards)\n",
           "\n",
           "DataParallelTrainerTests",
           "the update of several shards moves the weights but not the biases"),
    Mutant("sparse-step-skips-the-last-shard", "Sources/MLPKit/Engine/StepRunner.swift",
           "            for shard in plan.rows.indices {\n                sparse!.descend",
           "            for shard in plan.rows.indices.dropLast() {\n                sparse!.descend",
           "DataParallelTrainerTests",
           "the sparse first layer's step over several shards leaves the last one out"),
    Mutant("sharing-kept-when-slower", "Sources/MLPKit/Training/WorkerChooser.swift",
           "sharing = shared < solo", "sharing = shared > solo",
           "DataParallelTrainerTests",
           "the threads keep sharing the steps when that measured slower than one thread"),

    # Training across processes.
    Mutant("exchange-skipped", "Sources/MLPKit/Engine/StepRunner.swift",
           "losses: losses.pointer,\n                              shards: plan.rows.count)", "losses: losses.pointer,\n                              shards: 0)",
           "ShardExchangeTests",
           "ranks step on their own shards' gradients only"),
    Mutant("exchange-without-sparse-deltas", "Sources/MLPKit/Engine/StepRunner.swift",
           "            if sparse != nil {\n                mine.append(", "            if sparse == nil {\n                mine.append(",
           "ShardExchangeTests",
           "ranks step the sparse first layer without the other ranks' dL/dz"),
    Mutant("exchange-loads-only-its-shards", "Sources/MLPKit/Engine/StepPlan.swift",
           "loaded = sparse && exchanged ? 0..<rows.count : computed", "loaded = computed",
           "ShardExchangeTests",
           "ranks step the sparse first layer on other ranks' shards without their rows"),
    Mutant("shard-blocks-overlap", "Sources/MLPKit/Training/ShardExchange.swift",
           "return start ..< start + base + (rank < extra ? 1 : 0)", "return start ..< start + base + 1",
           "ShardExchangeTests",
           "two ranks compute the same shard"),

    # train: the user's data.
    Mutant("numeric-classes-in-first-appearance", "Sources/MLPData/Tabular/TargetEncoding.swift",
           "if names.allSatisfy({ Double($0) != nil }) { names.sort { Double($0)! < Double($1)! } }", "",
           "TrainJobTests",
           "numeric class labels are numbered in order of appearance, not by value"),
    Mutant("standardizer-forgets-the-scale", "Sources/MLPData/Tabular/Standardizer.swift",
           "x[i] = (x[i] - mean[j]) / scale[j]", "x[i] = x[i] - mean[j]",
           "TrainJobTests",
           "--standardize centres the features but does not scale them"),
    Mutant("early-stopping-keeps-the-last-model", "Sources/MLPJobs/Jobs/TrainJob.swift",
           "if improved { try model.write(to: folder + \"/model.safetensors\") }",
           "_ = improved; try model.write(to: folder + \"/model.safetensors\")",
           "TrainJobTests",
           "early stopping writes the last epoch's model, not the best"),
    Mutant("wide-forward-pairs-wrong-rows", "Sources/MLPKit/Kernels/WideForward.swift",
           "let first = x + p &* 2 &* k, second = first + k",
           "let first = x + p &* 2 &* k, second = first",
           "WideKernelTests|KernelTests",
           "the 16-lane forward pass packs each pair's first sample twice, losing the second"),
    Mutant("wide-forward-packed-tile-wrong-row", "Sources/MLPKit/Kernels/WideForward.swift",
           "            row += k\n            c &+= 1", "            row += k &* (c & 1)\n            c &+= 1",
           "WideKernelTests|KernelTests",
           "the packed tile of W holds the wrong rows (batches of 32 or more)"),
    Mutant("wide-forward-passes-restart", "Sources/MLPKit/Kernels/WideForward.swift",
           "let count = min(depth, vectors &- start), resume = start > 0",
           "let count = min(depth, vectors &- start), resume = false",
           "WideKernelTests|KernelTests",
           "the 16-lane forward pass drops the sums of its earlier passes over the inputs (K over 256)"),
    Mutant("wide-forward-blocks-pack-first-rows", "Sources/MLPKit/Kernels/WideForward.swift",
           "packPairs(packed, x + first &* k, rows: count", "packPairs(packed, x, rows: count",
           "WideKernelTests|KernelTests",
           "the 16-lane forward pass packs the first block's samples for every block (batches over 128)"),
    Mutant("wide-forward-in-place-pairs-wrong-rows", "Sources/MLPKit/Kernels/WideForward.swift",
           "pair8(u0p, u0p + k), u1 = k == 0", "pair8(u0p, u0p), u1 = k == 0",
           "WideKernelTests|KernelTests",
           "the 16-lane forward pass reading x in place (narrow layers) takes each pair's first sample twice"),
    Mutant("wide-forward-rest-of-outputs-first-block", "Sources/MLPKit/Kernels/WideForward.swift",
           "denseForwardBlock(y + first &* n, x + first &* k, w, b, rows: count,",
           "denseForwardBlock(y + first &* n, x, w, b, rows: count,",
           "WideKernelTests|KernelTests",
           "the outputs past the last tile of 12 read the first block's samples for every block (batches over 128)"),
    Mutant("sample-lanes-sum-order", "Sources/MLPKit/Kernels/SampleLanesForward.swift",
           "var s0 = ((p0 + p4) + (p2 + p6)) + ((p1 + p5) + (p3 + p7))",
           "var s0 = ((p0 + p1) + (p2 + p3)) + ((p4 + p5) + (p6 + p7))",
           "SampleLanesKernelTests",
           "the sample-lanes forward pass adds its partial sums in another order: outputs change with the batch size"),
    Mutant("sample-lanes-transpose-drops-a-row", "Sources/MLPKit/Kernels/SampleLanesForward.swift",
           "load8(x + 6 &* stride), load8(x + 7 &* stride))", "load8(x + 6 &* stride), load8(x + 6 &* stride))",
           "SampleLanesKernelTests",
           "the 8 × 8 transpose copies its seventh row over the eighth"),
    Mutant("sample-lanes-outputs-offset-lost", "Sources/MLPKit/Kernels/SampleLanesForward.swift",
           "let block = y + (r &* n &+ outputs.lowerBound)", "let block = y + r &* n",
           "SampleLanesKernelTests",
           "a thread's share of the outputs is written over the first outputs"),
    Mutant("forward-threads-blocks-off-the-kernel-path", "Sources/MLPKit/Engine/MLP.swift",
           "let blockRows = min(((x.rows + threads - 1) / threads + 3) / 4 * 4, Self.keptRows)",
           "let blockRows = min((x.rows + threads - 1) / threads, Self.keptRows)",
           "EngineTests",
           "forward on several threads cuts the rows into blocks that are not multiples of 4, changing their bits"),
    Mutant("train-checkpoint-without-standardization", "Sources/MLPJobs/Jobs/JobCheckpoints.swift",
           "checkpoint.model.tensors += modelTensors", "_ = modelTensors",
           "TrainJobTests",
           "a train checkpoint loses the standardization: exported or predicted, it reads raw features"),
    Mutant("safetensors-bf16-wrong-half", "Sources/MLPKit/Files/SafeTensors.swift",
           "case .BF16: each(UInt16.self) { Float(bitPattern: UInt32($0) << 16) }",
           "case .BF16: each(UInt16.self) { Float(bitPattern: UInt32($0)) }",
           "SafeTensorsTests",
           "BF16 values are read as the low half of a float instead of the high half"),
    Mutant("safetensors-i8-read-unsigned", "Sources/MLPKit/Files/SafeTensors.swift",
           "case .I8: each(Int8.self) { Float($0) }", "case .I8: each(UInt8.self) { Float($0) }",
           "SafeTensorsTests",
           "signed bytes are read as unsigned: -1 becomes 255"),
    Mutant("matvec-descending-bias-of-first-block", "Sources/MLPKit/Kernels/VectorKernels.swift",
           "matVec(y + start, w + start &* k, x, b + start, k: k", "matVec(y + start, w + start &* k, x, b, k: k",
           "KernelTests|EngineTests",
           "a single sample read last block first adds the first block's biases to every block"),
    Mutant("wide-dw-packs-wrong-columns-of-dy", "Sources/MLPKit/Kernels/WideBackwardWeights.swift",
           "packColumns(ds, dy + outputs.lowerBound, m: m", "packColumns(ds, dy, m: m",
           "WideKernelTests|KernelTests",
           "the 16-lane dW packs dy's first columns for a block of rows further down (batches of 32 or more)"),
    Mutant("wide-dx-packs-wrong-strip", "Sources/MLPKit/Kernels/WideBackwardInput.swift",
           "if let strip { packColumns(strip, wTile + i, m: count", "if let strip { packColumns(strip, wTile, m: count",
           "WideKernelTests|KernelTests",
           "the 16-lane dL/dx packs W's first strip for every strip (batches of 32 or more)"),
    Mutant("wide-forward-tail-wrong-row", "Sources/MLPKit/Kernels/WideForward.swift",
           "s0 += x[i] * v; s1 += x[k &+ i] * v;", "s0 += x[i] * v; s1 += x[i] * v;",
           "WideKernelTests|KernelTests",
           "the 16-lane forward pass adds the wrong sample's inputs past the last multiple of 8"),
    Mutant("wide-dx-skips-last-four-rows", "Sources/MLPKit/Kernels/WideBackwardInput.swift",
           "if rows8 < fullRows, done > inputs.lowerBound {", "if false, rows8 < fullRows, done > inputs.lowerBound {",
           "WideKernelTests|KernelTests",
           "the 16-lane dL/dx leaves the samples after the last 8 undone in its strips"),
    Mutant("wide-dw-skips-columns-after-strips", "Sources/MLPKit/Kernels/WideBackwardWeights.swift",
           "        if strips &* 48 < k {", "        if strips &* 48 + 8 < k {",
           "WideKernelTests|KernelTests",
           "the 16-lane dW leaves fewer than 8 columns after its strips of 48 undone"),
    Mutant("option-name-without-dashes", "Sources/MLPJobs/Jobs/TrainingJobOptions.swift",
           'name += "-" + character.lowercased()', "name += character.lowercased()",
           "CommandLineTests|DiscDemoTests|CleanStopTests",
           "a field becomes the wrong option in messages and checkpoints (learningRate as --learningrate)"),
    Mutant("checkpoint-dense-first-layer-not-inverted", "Sources/MLPJobs/Jobs/JobCheckpoints.swift",
           'run["--dense-first-layer"] = value == "yes" ? "no" : "yes"', 'run["--dense-first-layer"] = value',
           "DiscDemoTests",
           "checkpoints record the first layer as sparse=yes under --dense-first-layer: older checkpoints refuse"),
    Mutant("trainer-shuffles-from-the-jobs-seed", "Sources/MLPJobs/Jobs/TrainingJobOptions.swift",
           "options.seed ^= Self.shuffleSalt", "options.seed ^= 0",
           "MNISTTrainingTests",
           "jobs shuffle from their own seed, not the salted one: the weights change from the recorded runs"),
    Mutant("cli-names-fields-not-options", "Sources/mlp-train/OptimizerOptions.swift",
           "throw ValidationError(error.inCommandLineTerms.message)", "throw ValidationError(error.message)",
           "CommandLineTests",
           "usage errors name MLPKit's field (learningRate) instead of the option (--learning-rate)"),
    Mutant("evaluator-loss-unchecked", "Sources/MLPKit/Training/Evaluator.swift",
           "        try data.check(against: network)\n        let size = network.outputSize\n        let total",
           "        let size = network.outputSize\n        let total",
           "TrainerTests",
           "the mean loss reads data that do not fit the network instead of refusing them"),
    Mutant("he-scales-by-fan-out", "Sources/MLPKit/Engine/Initializer.swift",
           "case .he: 2 / Double(fanIn)", "case .he: 2 / Double(fanOut)",
           "InitializerTests",
           "He initialization scaled by the layer's outputs instead of its inputs"),
    Mutant("uniform-limit-too-narrow", "Sources/MLPKit/Engine/Initializer.swift",
           "let limit = 3.0.squareRoot() * deviation", "let limit = 2.0.squareRoot() * deviation",
           "InitializerTests",
           "the uniform initializers draw on a range whose variance is not the formula's"),
    Mutant("suited-gives-xavier-to-relu", "Sources/MLPKit/Engine/Initializer.swift",
           "case .relu, .leakyReLU: .he(distribution)", "case .relu, .leakyReLU: .xavier(distribution)",
           "InitializerTests|TrainJobTests",
           "the ReLU family starts as Xavier, not He"),
    Mutant("model-file-forgets-the-initializer", "Sources/MLPKit/Engine/MLP+ModelFile.swift",
           "if initializers[index] != .classic {", "if false, initializers[index] != .classic {",
           "InitializerTests|TrainJobTests",
           "model files no longer record how their layers started"),
    Mutant("train-starts-classic-by-default", "Sources/MLPJobs/Jobs/TrainJob.swift",
           "options.initializer ?? .suited(to: activation)", "options.initializer ?? .classic",
           "TrainJobTests",
           "train starts every layer as randn × 0.1 instead of as suits its activation"),
    Mutant("mean-loss-not-scaled", "Sources/MLPKit/Engine/StepRunner.swift",
           "if step.gradientScale != 1 {", "if false, step.gradientScale != 1 {",
           "LossReductionTests",
           "a mean loss steps like the sum: learning rates tuned elsewhere are batch times too large"),
    Mutant("mean-loss-over-the-full-batch", "Sources/MLPKit/Training/DataParallelTrainer.swift",
           "gradientScale: lossReduction.gradientScale(rows: rows), dropoutKey:",
           "gradientScale: lossReduction.gradientScale(rows: batchSize), dropoutKey:",
           "LossReductionTests",
           "an epoch's shorter last batch is averaged over a full batch's length"),
    Mutant("trainer-drops-the-reduction", "Sources/MLPKit/Training/Trainer.swift",
           "trainer.lossReduction = options.lossReduction", "trainer.lossReduction = .sum",
           "LossReductionTests",
           "the trainer sums the losses whatever the options say"),
    Mutant("mosaics-read-as-class-folders", "Sources/MLPData/Tabular/LabeledDataFormats.swift",
           'if MNIST.isFile(path + "/train/0.png") { return .mnistMosaics }', "",
           "TrainOnMNISTTests|CommandLineTests",
           "train reads the shipped mosaics as two class folders, train and test, and stops on their sizes"),
    Mutant("mosaics-test-role-reads-train", "Sources/MLPData/Tabular/LabeledDataFormats.swift",
           'let split = role == .train ? "train" : "test"', 'let split = "train"',
           "TrainOnMNISTTests",
           "the mosaics' test split is their training split"),
    Mutant("own-test-split-ignored", "Sources/MLPJobs/Jobs/TrainJob.swift",
           "let testPath = options.test ?? (LabeledData.holdsTestSplit(options.data) ? options.data : nil)",
           "let testPath = options.test",
           "TrainOnMNISTTests|CommandLineTests",
           "train on MNIST scores no test split unless --test names it"),
    Mutant("smoothing-keeps-the-label-at-one", "Sources/MLPKit/Training/TrainingOptions.swift",
           "row[label] = 1 - labelSmoothing + off", "row[label] = 1",
           "LabelSmoothingTests",
           "smoothed targets no longer sum to one: the true class keeps its full weight"),
    Mutant("per-sample-ignores-smoothing", "Sources/MLPKit/Training/Trainer.swift",
           "options.writeClassTarget(target, label: Int(labels[i]), classes: outputs)",
           "for j in 0..<outputs { target[j] = 0 }; target[Int(labels[i])] = 1",
           "LabelSmoothingTests",
           "per-sample SGD trains on one-hot targets whatever the smoothing"),
    Mutant("smoothing-accepts-value-targets", "Sources/MLPKit/Training/Trainer.swift",
           "        if options.labelSmoothing != 0 {\n            guard case .classes",
           "        if false, options.labelSmoothing != 0 {\n            guard case .classes",
           "LabelSmoothingTests",
           "smoothing is silently ignored on value targets or other losses instead of refused"),
    Mutant("warmup-starts-at-zero", "Sources/MLPKit/Training/Warmup.swift",
           "step < length ? Float(step + 1) / Float(length) : 1", "step < length ? Float(step) / Float(length) : 1",
           "WarmupTests",
           "the warmup's first step has a rate of 0 and its last falls short of the schedule's"),
    Mutant("warmup-ignored", "Sources/MLPKit/Training/Trainer.swift",
           "learningRate: rate * factor, maxSteps: 1,", "learningRate: rate, maxSteps: 1,",
           "WarmupTests",
           "the warmup's steps run at the schedule's full rate"),
    Mutant("warmup-restarts-every-epoch", "Sources/MLPKit/Training/Trainer.swift",
           "let factor = Warmup.factor(step: state.steps, length: warmupSteps)",
           "let factor = Warmup.factor(step: route.steps(in: state.position), length: warmupSteps)",
           "WarmupTests|ResumeTests",
           "the warmup counts the epoch's steps instead of the run's"),
    Mutant("dropout-mask-skipped-in-blocked-backward", "Sources/MLPKit/Engine/StepRunner.swift",
           "                if dropoutRates[l] > 0 { applyMask(dx, masks[s][l].pointer, rows: 0..<rows, stride: k, columns: range) }\n",
           "",
           "DropoutTests",
           "dL/dx of a layer with dropout reaches the dropped units on the blocked path (4 rows and more)"),
    Mutant("dropout-mask-skipped-in-tail-backward", "Sources/MLPKit/Engine/StepRunner.swift",
           "            if dropoutRates[l] > 0 { applyMask(dx, masks[s][l].pointer, rows: 0..<rows, stride: k, columns: 0..<k) }\n",
           "",
           "DropoutTests",
           "dL/dx of a layer with dropout reaches the dropped units on the one-row path"),
    Mutant("dropout-derivative-from-dropped-outputs", "Sources/MLPKit/Engine/StepRunner.swift",
           "activation.backward(dx, output: undropped(l, s), rows: rows, columns: k)",
           "activation.backward(dx, output: input(l, s), rows: rows, columns: k)",
           "DropoutTests",
           "the derivative below a dropout is taken at the scaled, masked outputs (wrong for tanh and logistic)"),
    Mutant("dropout-keyed-by-position", "Sources/MLPKit/Engine/StepRunner.swift",
           "sample: step.indices[s * shardRows + r])", "sample: s * shardRows + r)",
           "DropoutTests",
           "the masks follow a row's place in the batch, not the sample, so they change with the shuffle"),
    Mutant("dropout-same-masks-every-epoch", "Sources/MLPKit/Training/Trainer.swift",
           "trainer.dropoutKey = Dropout.key(seed: seed, epoch: epoch)",
           "trainer.dropoutKey = Dropout.key(seed: seed, epoch: 1)",
           "DropoutTests",
           "every epoch drops the same units of each sample"),
    Mutant("dropout-rate-ignored-by-spec", "Sources/MLPKit/Engine/LayerSpec.swift",
           "            if entry.dropout > 0 { net.addDropout(entry.dropout) }\n", "",
           "DropoutTests",
           "a spec's dropout:p is parsed but the network drops nothing"),
    Mutant("dropout-not-in-model-file", "Sources/MLPKit/Engine/MLP+ModelFile.swift",
           "            if layer.dropout > 0 { metadata[\"layers.\\(index).dropout\"] = \"\\(layer.dropout)\" }\n", "",
           "DropoutTests",
           "a model file forgets its dropout rates, so a resumed or fine-tuned run trains another network"),
    Mutant("per-sample-route-with-dropout", "Sources/MLPKit/Training/Trainer.swift",
           "options.clipNorm == nil && !network.hasDropout {", "options.clipNorm == nil {",
           "DropoutTests",
           "per-sample SGD, which knows no dropout, trains a network with dropout without dropping"),
    Mutant("clipping-factor-ignored", "Sources/MLPKit/Engine/StepRunner.swift",
           "factor: clipFactor)", "factor: 1)",
           "ClippingTests",
           "the norm is computed but the update takes the gradient whole"),
    Mutant("clipping-norm-without-biases", "Sources/MLPKit/Engine/StepRunner.swift",
           "sumOfSquares(g + w + j * k, count: k) + Double(g[b + j]) * Double(g[b + j])",
           "sumOfSquares(g + w + j * k, count: k)",
           "ClippingTests",
           "the global norm leaves the biases' gradient out"),
    Mutant("clipping-on-the-per-sample-route", "Sources/MLPKit/Training/Trainer.swift",
           "options.isPlainSGD && options.clipNorm == nil && !network.hasDropout {",
           "options.isPlainSGD && !network.hasDropout {",
           "ClippingTests",
           "per-sample SGD, which has no norm phase, ignores --clip-norm"),
    Mutant("mosaics-read-dark-on-white-by-train", "Sources/MLPData/Tabular/LabeledDataFormats.swift",
           "rows: digits.pixels.mapValues { ink[Int(($0 * 255).rounded())] },", "rows: digits.pixels,",
           "TrainOnMNISTTests",
           "train reads the mosaics with background 1, not as MNIST's usual values, so recipes do not carry over"),
    Mutant("predict-never-flips-train-images", "Sources/MLPJobs/Jobs/TabularPredictJob.swift",
           "if paper != background { values = values.map { 1 - $0 } }", "",
           "TrainOnMNISTTests",
           "a picture of the other polarity reaches a train model unflipped"),
    Mutant("onnx-gemm-without-transposed-weights", "Sources/MLPInterop/ONNXExport.swift",
           "gemm.attribute = [attribute(\"transB\", int: 1)]", "gemm.attribute = [attribute(\"transB\", int: 0)]",
           "ONNXExportTests",
           "the Gemm reads W [out, in] as [in, out]"),
    Mutant("onnx-leaky-relu-without-its-slope", "Sources/MLPInterop/ONNXExport.swift",
           "leaky.attribute = [attribute(\"alpha\", float: slope)]", "",
           "ONNXExportTests",
           "LeakyRelu takes ONNX's default slope (0.01) whatever the layer's"),
    Mutant("onnx-standardization-left-out", "Sources/MLPJobs/Jobs/ExportJob.swift",
           "standardization = model.standardizer.map { .init(mean: $0.mean, scale: $0.scale) }", "",
           "ONNXExportTests",
           "a train model's graph expects standardized features but is given raw ones"),
    Mutant("import-gemm-reads-weights-untransposed", "Sources/MLPInterop/ONNXImport.swift",
           "let transposed = (attributes[\"transB\"]?.i ?? 0) == 1", "let transposed = true",
           "ImportTests",
           "a Gemm with transB = 0 (weights [in, out]) is read as [out, in]"),
    Mutant("import-leaky-relu-loses-its-slope", "Sources/MLPInterop/ONNXImport.swift",
           "return .leakyReLU(slope: attributes[\"alpha\"]?.f ?? 0.01)", "return .leakyReLU",
           "ImportTests",
           "an imported LeakyRelu takes the default slope whatever the graph's alpha"),
    Mutant("import-state-dict-keys-sorted-as-text", "Sources/MLPJobs/Jobs/ImportJob.swift",
           "return x.lexicographicallyPrecedes(y) || (x == y && a < b)", "return a < b",
           "ImportTests",
           "Linear layers 10, 2, 4 … are taken in the order of their keys' text, not their numbers"),
    Mutant("train-init-from-ignored", "Sources/MLPJobs/Jobs/TrainJob.swift",
           "        if let path = options.initFrom { try startFrom(path, network) }\n", "",
           "ImportTests",
           "train --init-from trains from fresh weights"),
    Mutant("tensorboard-crc-unmasked", "Sources/MLPInterop/CRC32C.swift",
           "return ((crc >> 15) | (crc << 17)) &+ 0xA282_EAD8", "return crc",
           "CleanStopTests/trainStops",
           "event records carry the plain CRC-32C, which TensorBoard's reader rejects as corrupt"),
    Mutant("tensorboard-resume-without-start", "Sources/MLPJobs/Jobs/TrainingBoard.swift",
           "let start = resumed.map { ($0.epoch - 1) * data.count + $0.position + 1 }", "let start: Int? = nil",
           "CleanStopTests/aRunResumed",
           "a resumed run does not mark where it starts, so a crashed run's steps after its checkpoint show twice"),
    Mutant("tensorboard-steps-restart-each-epoch", "Sources/MLPJobs/Jobs/TrainingBoard.swift",
           "private func axis(epoch: Int, done: Int) -> Int { (epoch - 1) * samplesPerEpoch + done }",
           "private func axis(epoch: Int, done: Int) -> Int { done }",
           "CleanStopTests/trainStops",
           "every epoch's events land on the same steps"),
    # Data kept in their stored type, packed and mapped.
    Mutant("byte-rows-read-raw", "Sources/MLPKit/Training/InputRows.swift",
           "for i in 0..<width { destination[i] = table[Int(bytes[i])] }",
           "for i in 0..<width { destination[i] = Float(bytes[i]) }",
           "InputRowsTests",
           "byte rows skip their table when a batch copies them in: pixels train as 0…255 instead of b / 255"),
    Mutant("sparse-byte-scan-skips-other-bytes", "Sources/MLPKit/Engine/SparseBatch.swift",
           "UnsafeRawPointer(bytes + i).loadUnaligned(as: UInt64.self) == pattern {",
           "UnsafeRawPointer(bytes + i).loadUnaligned(as: UInt64.self) & 0xFF == pattern & 0xFF {",
           "InputRowsTests",
           "the sparse first layer skips eight bytes when the first is background, losing the ink after it"),
    Mutant("sparse-byte-skip-keeps-a-stale-byte", "Sources/MLPKit/Engine/SparseBatch.swift",
           "if backgroundBytes.map({ table[Int($0 & 0xFF)] != background }) ?? true {",
           "if backgroundBytes == nil {",
           "SparseByteBatchTests",
           "a batch keeps the last table's background byte after the background changes, skipping ink"),
    Mutant("halves-read-as-bytes", "Sources/MLPKit/Training/InputRows.swift",
           "for i in 0..<width { destination[i] = Float(Float16(bitPattern: halves[i])) }",
           "for i in 0..<width { destination[i] = Float(halves[i]) }",
           "InputRowsTests|PackTests",
           "half-float rows are read as integers"),
    Mutant("evaluator-targets-from-raw-rows", "Sources/MLPKit/Training/Evaluator.swift",
           "targets.floatRow(first) ?? inputs", "targets.floatRow(first) ?? UnsafePointer(decoded[0].pointer)",
           "InputRowsTests",
           "an autoencoder scored on byte rows compares its outputs with another chunk's inputs"),
    Mutant("gather-drops-table", "Sources/MLPKit/Training/InputRows.swift",
           "case .byte: try! InputRows(bytes: gather(UInt8.self, reader), width: width, encoding: encoding)",
           "case .byte: try! InputRows(bytes: gather(UInt8.self, reader), width: width)",
           "InputRowsTests",
           "a validation split of the mosaics reads its bytes as b / 255 again, not as ink on 0"),
    Mutant("mosaic-classes-not-closed-up", "Sources/MLPData/MosaicLoader.swift",
           "                    if end != slotStarts[label] * tileValues {",
           "                    if false {",
           "DatasetTests",
           "a class's tiles stay in the slot its grid reserved, leaving padding between the classes"),
    Mutant("pack-u8-drops-divisor", "Sources/MLPData/Tabular/PackedDataWriter.swift",
           "if type == .u8 { metadata[\"x.divisor\"] = divisor == 255 ? \"255\" : \"1\" }",
           "if type == .u8 { metadata[\"x.divisor\"] = \"1\" }",
           "PackTests",
           "packed pixels read back as 0…255, not b / 255"),
    Mutant("pack-header-reserve-short", "Sources/MLPData/Tabular/PackedDataWriter.swift",
           "if header.count <= reserve {", "if header.count <= reserve * 8 {",
           "PackTests",
           "a header larger than its reserve overwrites the first rows"),
    Mutant("csv-stretch-cut-inside-quotes", "Sources/MLPData/Tabular/CSVChunks.swift",
           "else if p[i] == UInt8(ascii: \"\\n\") && !quoted {", "else if p[i] == UInt8(ascii: \"\\n\") {",
           "CSVChunksTests|PackTests",
           "a CSV stretch ends at a line break inside a quoted field, cutting a row in two"),
    Mutant("csv-stretch-lines-from-one", "Sources/MLPData/Tabular/CSVChunks.swift",
           "linesBefore: lines - headerLines)", "linesBefore: 0)",
           "CSVChunksTests|PackTests",
           "an error in a later stretch of a CSV names a line counted from the stretch, not the file"),
    Mutant("packed-labels-off-by-one", "Sources/MLPData/Tabular/LabeledDataFormats.swift",
           "return classes[Int(value)]", "return classes[(Int(value) + 1) % classes.count]",
           "PackTests",
           "a packed file's class indices read as the next class's name"),
    Mutant("idx-pieces-drop-the-last", "Sources/MLPData/IDXLoader.swift",
           "        while done < size {\n            let count = min(buffer.count, size - done)",
           "        while done + buffer.count < size {\n            let count = min(buffer.count, size - done)",
           "PackTests",
           "packing IDX in stretches loses the last stretch"),
    Mutant("window-shuffle-repeats-samples", "Sources/MLPKit/Training/Shuffle.swift",
           "                    buffer[slot] = sample\n", "\n",
           "ShuffleTests",
           "the window hands out a sample again instead of taking the new one: not a permutation"),
    Mutant("window-shuffle-ignores-chunk-order", "Sources/MLPKit/Training/Shuffle.swift",
           "            generator.shuffle(&chunks)\n", "\n",
           "ShuffleTests|ResumeTests",
           "chunks are streamed in file order: the windowed order depends on the draw only within a window"),
    Mutant("mapped-change-unnoticed", "Sources/MLPKit/Files/MappedFile.swift",
           "        guard now == identity else {", "        guard now.size == identity.size || true else {",
           "InputRowsTests",
           "a mapped data file rewritten under a run goes unreported"),
    Mutant("crossproducts-skip-last-round", "Sources/MLPKit/Engine/CrossProducts.swift",
           "for worker in 0..<running { for i in 0..<(d * d) { total[i] += partials[worker][i] } }",
           "for worker in 0..<running where round + workers < groups { for i in 0..<(d * d) { total[i] += partials[worker][i] } }",
           "CrossProductsTests",
           "PCA's covariance leaves out the last round of row groups"),
]


def tracked_files():
    """The working tree as git would commit it: tracked and untracked, not ignored."""
    out = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT, check=True,
                         capture_output=True).stdout
    return [f for f in out.decode().split("\0") if f and os.path.isfile(os.path.join(ROOT, f))]


def write_if_changed(path, data):
    """Writes only when the content differs, so the scratch build stays incremental."""
    if os.path.exists(path):
        with open(path, "rb") as f:
            if f.read() == data:
                return
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def sync_scratch():
    files = tracked_files()
    for f in files:
        with open(os.path.join(ROOT, f), "rb") as source:
            write_if_changed(os.path.join(SCRATCH, f), source.read())
    wanted = set(files)
    for folder, dirs, names in os.walk(SCRATCH):
        dirs[:] = [d for d in dirs if not d.startswith(".build")]
        for name in names:
            relative = os.path.relpath(os.path.join(folder, name), SCRATCH)
            if relative not in wanted:
                os.remove(os.path.join(folder, name))


def run(command, log, timeout=None):
    with open(log, "a") as out:
        out.write(f"\n$ {' '.join(command)}\n")
        out.flush()
        return subprocess.run(command, cwd=SCRATCH, stdout=out, stderr=subprocess.STDOUT, timeout=timeout).returncode


def build_and_test(tests, log):
    """'passed', 'failed', 'timeout' (a hang counts as caught) or 'no-build'."""
    if run(["swift", "build", "--build-tests"], log) != 0:
        return "no-build"
    try:
        return "passed" if run(["swift", "test", "--skip-build", "--filter", tests], log, timeout=600) == 0 else "failed"
    except subprocess.TimeoutExpired:
        return "timeout"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", help="mutants to run (default: all)")
    parser.add_argument("--list", action="store_true", help="list the mutants and exit")
    args = parser.parse_args()
    if args.list:
        for m in MUTANTS:
            print(f"{m.name:36} {m.tests:40} {m.why}")
        return 0
    unknown = [n for n in args.names if n not in {m.name for m in MUTANTS}]
    if unknown:
        print(f"unknown mutant(s): {', '.join(unknown)} (see --list)", file=sys.stderr)
        return 2
    chosen = [m for m in MUTANTS if not args.names or m.name in args.names]

    os.environ.setdefault("MLP_DATA", os.path.normpath(os.path.join(ROOT, "..", "shared", "data", "mnist-png")))
    venv_python = os.path.join(ROOT, ".build-venv", "bin", "python3")   # ONNX Runtime's checks (.ci/run makes it)
    if os.path.exists(venv_python):
        os.environ.setdefault("MLP_PYTHON", venv_python)
    os.makedirs(SCRATCH, exist_ok=True)
    log = os.path.join(os.path.dirname(SCRATCH), "mutants.log")
    open(log, "w").close()
    sync_scratch()

    # Every mutant must apply to the current code, exactly once.
    stale = []
    for m in chosen:
        with open(os.path.join(ROOT, m.file)) as f:
            count = f.read().count(m.original)
        if count != 1:
            stale.append(f"{m.name}: its text occurs {count} times in {m.file}")
    if stale:
        print("mutants that no longer apply (update scripts/mutants.py):\n  " + "\n  ".join(stale), file=sys.stderr)
        return 2

    filters = "|".join(sorted({t for m in chosen for t in m.tests.split("|")}))
    print(f"baseline: the mutants' tests on the unmutated code ({filters}) …", flush=True)
    baseline = build_and_test(filters, log)
    if baseline != "passed":
        print(f"baseline {baseline}: fix the code or the tests first (log: {log})", file=sys.stderr)
        return 1

    rows, bad = [], 0
    for m in chosen:
        path = os.path.join(SCRATCH, m.file)
        with open(path) as f:
            original = f.read()
        clock = time.monotonic()
        try:
            write_if_changed(path, original.replace(m.original, m.mutated).encode())
            outcome = build_and_test(m.tests, log)
        finally:
            write_if_changed(path, original.encode())
        verdict = {"failed": "killed", "timeout": "killed (hung)", "passed": "SURVIVED",
                   "no-build": "DOES NOT COMPILE"}[outcome]
        bad += not verdict.startswith("killed")
        rows.append((m.name, m.tests, verdict, time.monotonic() - clock))
        print(f"  {m.name:36} {verdict:16} {rows[-1][3]:5.0f} s", flush=True)

    print("\n| mutant | tests that must fail | result | seconds |\n|---|---|---|---|")
    for name, tests, verdict, seconds in rows:
        print(f"| {name} | {tests} | {verdict} | {seconds:.0f} |")
    print(f"\n{len(rows) - bad} of {len(rows)} mutants killed (log: {log})")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
