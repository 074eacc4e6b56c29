// Naive reference twins of the dense-layer kernels: plain loops, used by tests and as the definition of
// what each SIMD kernel in DenseForward.swift, DenseBackwardInput.swift, DenseBackwardWeights.swift and
// VectorKernels.swift must compute.
//
// Conventions for every kernel: row-major contiguous buffers, outputs first, sizes last.
// x is (M,K) — M samples of K inputs; w is (N,K) — N outputs by K inputs (PyTorch nn.Linear layout);
// b is (N); y and dy are (M,N); dx is (M,K).

/// y = x·wᵀ + b.   x is (M,K), w is (N,K), b is (N); y is (M,N). Overwrites y.
func denseForwardNaive(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>,
                       _ w: UnsafePointer<Float>, _ b: UnsafePointer<Float>, m: Int, k: Int, n: Int) {
    for r in 0..<m {
        for j in 0..<n {
            var s = b[j]
            for i in 0..<k { s += x[r * k + i] * w[j * k + i] }
            y[r * n + j] = s
        }
    }
}

/// dx = dy·w.   dy is (M,N), w is (N,K); dx is (M,K). Overwrites dx.
func denseBackwardInputNaive(_ dx: UnsafeMutablePointer<Float>, _ dy: UnsafePointer<Float>,
                             _ w: UnsafePointer<Float>, m: Int, k: Int, n: Int) {
    for r in 0..<m {
        for i in 0..<k {
            var s: Float = 0
            for j in 0..<n { s += dy[r * n + j] * w[j * k + i] }
            dx[r * k + i] = s
        }
    }
}

/// dw += dyᵀ·x and db += Σ_rows dy.   dy is (M,N), x is (M,K); dw is (N,K), db is (N). Accumulates;
/// `write` can make it overwrite instead, or subtract learningRate × the gradient (see `GradientWrite`).
func denseBackwardWeightsNaive(_ dw: UnsafeMutablePointer<Float>, _ db: UnsafeMutablePointer<Float>,
                               _ dy: UnsafePointer<Float>, _ x: UnsafePointer<Float>, m: Int, k: Int, n: Int,
                               write: GradientWrite = .accumulate) {
    if case .descend(let rate) = write {
        for j in 0..<n {
            var g: Float = 0
            for r in 0..<m { g += dy[r * n + j] }
            db[j] -= rate * g
            for i in 0..<k {
                var g: Float = 0
                for r in 0..<m { g += dy[r * n + j] * x[r * k + i] }
                dw[j * k + i] -= rate * g
            }
        }
        return
    }
    if case .overwrite = write {
        for j in 0..<n { db[j] = 0 }
        for i in 0..<(n * k) { dw[i] = 0 }
    }
    for j in 0..<n {
        for r in 0..<m {
            let d = dy[r * n + j]
            db[j] += d
            for i in 0..<k { dw[j * k + i] += d * x[r * k + i] }
        }
    }
}

// Naive twins of the batch-1 kernels in VectorKernels.swift.

/// y = w·x + b.   w is (N,K), x is (K), b is (N); y is (N). Overwrites y.
func matVecNaive(_ y: UnsafeMutablePointer<Float>, _ w: UnsafePointer<Float>, _ x: UnsafePointer<Float>,
                 _ b: UnsafePointer<Float>, k: Int, n: Int) {
    for j in 0..<n {
        var s = b[j]
        for i in 0..<k { s += w[j * k + i] * x[i] }
        y[j] = s
    }
}

/// dx = dyᵀ·w, i.e. dx[i] = Σ_j dy[j]·w[j,i].   dy is (N), w is (N,K); dx is (K). Overwrites dx.
func vecMatNaive(_ dx: UnsafeMutablePointer<Float>, _ dy: UnsafePointer<Float>, _ w: UnsafePointer<Float>,
                 k: Int, n: Int) {
    for i in 0..<k {
        var s: Float = 0
        for j in 0..<n { s += dy[j] * w[j * k + i] }
        dx[i] = s
    }
}

/// dw[j,:] += dy[j]·x and db += dy.   dy is (N), x is (K); dw is (N,K), db is (N). Accumulates.
func rank1UpdateNaive(_ dw: UnsafeMutablePointer<Float>, _ db: UnsafeMutablePointer<Float>,
                      _ dy: UnsafePointer<Float>, _ x: UnsafePointer<Float>, k: Int, n: Int) {
    for j in 0..<n {
        db[j] += dy[j]
        for i in 0..<k { dw[j * k + i] += dy[j] * x[i] }
    }
}

/// w[j,:] += scale·dy[j]·x and b += scale·dy.   dy is (N), x is (K); w is (N,K), b is (N). Accumulates.
func rank1StepNaive(_ w: UnsafeMutablePointer<Float>, _ b: UnsafeMutablePointer<Float>,
                    _ dy: UnsafePointer<Float>, _ x: UnsafePointer<Float>, scale: Float, k: Int, n: Int) {
    for j in 0..<n {
        let s = scale * dy[j]
        b[j] += s
        for i in 0..<k { w[j * k + i] += s * x[i] }
    }
}
