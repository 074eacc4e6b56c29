// The one chunked forward pass: many rows through some layers, a workspace-sized chunk at a time.

extension MLP {
    /// Runs `rows` rows of `x` (each layers.first's inputSize wide) through `layers`, in chunks of `chunkRows`
    /// rows (by default `workspaces[0].capacity`; a multiple of 4, so every row gets the same kernel path as in
    /// one pass; no workspace may hold fewer), one worker per workspace. `body(chunk, first, rows, outputs)` sees
    /// each chunk's outputs (rows × the last layer's outputSize) while they are valid; chunk c always holds rows
    /// c·chunkRows ..< …, whatever the number of workers. Reads the parameters as they are: callers synchronize first.
    /// `descending` goes to `forwardPass`.
    package func forwardInChunks(_ x: UnsafePointer<Float>, rows: Int, layers range: Range<Int>,
                                 workspaces: [Workspace], chunkRows: Int? = nil, descending: Bool = false,
                                 _ body: (_ chunk: Int, _ first: Int, _ rows: Int, _ outputs: UnsafePointer<Float>) -> Void) {
        let inputs = layers[range.lowerBound].inputSize
        forwardInChunks(rows: rows, layers: range, workspaces: workspaces, chunkRows: chunkRows, descending: descending,
                        input: { _, first, _ in x + first * inputs }) { chunk, first, count, _, y in
            body(chunk, first, count, y)
        }
    }

    /// `forwardInChunks` over the rows `reader` reads: float rows in place, others decoded a chunk at a time into
    /// `decoded[worker]` (one buffer per workspace, each chunkRows × inputSize floats). `body` also sees the chunk's
    /// inputs as floats.
    package func forwardInChunks(_ reader: RowReader, rows: Int, layers range: Range<Int>, workspaces: [Workspace],
                                 decoded: [FloatBuffer],
                                 _ body: (_ chunk: Int, _ first: Int, _ rows: Int, _ inputs: UnsafePointer<Float>,
                                          _ outputs: UnsafePointer<Float>) -> Void) {
        forwardInChunks(rows: rows, layers: range, workspaces: workspaces, input: { worker, first, count in
            if let row = reader.floatRow(first) { return row }
            let buffer = decoded[worker].pointer
            for r in 0..<count { reader.copyRow(first + r, into: buffer + r * reader.width) }
            return UnsafePointer(buffer)
        }, body)
    }

    /// The one loop: worker w takes chunks w, w + workers, …; `input(worker, first, rows)` gives a chunk's inputs.
    private func forwardInChunks(rows: Int, layers range: Range<Int>, workspaces: [Workspace], chunkRows: Int? = nil,
                                 descending: Bool = false,
                                 input: (_ worker: Int, _ first: Int, _ rows: Int) -> UnsafePointer<Float>,
                                 _ body: (_ chunk: Int, _ first: Int, _ rows: Int, _ inputs: UnsafePointer<Float>,
                                          _ outputs: UnsafePointer<Float>) -> Void) {
        let chunkRows = chunkRows ?? workspaces[0].capacity
        let chunks = (rows + chunkRows - 1) / chunkRows
        let workers = min(workspaces.count, chunks)
        forEachWorker(workers) { worker in
            let workspace = workspaces[worker]
            let y = UnsafePointer(workspace.activations[range.upperBound - 1].pointer)
            for chunk in stride(from: worker, to: chunks, by: workers) {
                let first = chunk * chunkRows, count = min(chunkRows, rows - first)
                let x = input(worker, first, count)
                forwardPass(x, rows: count, layers: range, workspace: workspace, descending: descending)
                body(chunk, first, count, x, y)
            }
        }
    }

    /// The outputs of `layers` for every row of `x` (layers.first's inputSize wide), computed in chunks of
    /// up to `chunkRows` rows (rounded up to a multiple of 4).
    package func forward(_ x: Matrix, layers range: Range<Int>, chunkRows: Int = 2048) -> Matrix {
        synchronize()
        var output = Matrix(rows: x.rows, columns: layers[range.upperBound - 1].outputSize)
        guard x.rows > 0 else { return output }
        let workspace = makeWorkspace(capacity: (min(x.rows, chunkRows) + 3) / 4 * 4, forwardOnly: true)
        copyForward(x, into: &output, layers: range, workspaces: [workspace])
        return output
    }

    /// Runs x through `range` in chunks of `chunkRows` rows (by default `workspaces[0].capacity`), one worker per
    /// workspace, copying each chunk's outputs into `output`. `descending` goes to `forwardPass`.
    func copyForward(_ x: Matrix, into output: inout Matrix, layers range: Range<Int>, workspaces: [Workspace],
                     chunkRows: Int? = nil, descending: Bool = false) {
        let width = output.columns
        x.values.withUnsafeBufferPointer { input in
            output.values.withUnsafeMutableBufferPointer { out in
                let destination = UncheckedSendable(value: out.baseAddress!)
                forwardInChunks(input.baseAddress!, rows: x.rows, layers: range, workspaces: workspaces,
                                chunkRows: chunkRows, descending: descending) {
                    _, first, rows, y in
                    (destination.value + first * width).update(from: y, count: rows * width)
                }
            }
        }
    }
}
