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
        let chunkRows = chunkRows ?? workspaces[0].capacity
        let chunks = (rows + chunkRows - 1) / chunkRows
        let inputs = layers[range.lowerBound].inputSize
        let workers = min(workspaces.count, chunks)
        forEachWorker(workers) { worker in
            let workspace = workspaces[worker]
            let y = UnsafePointer(workspace.activations[range.upperBound - 1].pointer)
            for chunk in stride(from: worker, to: chunks, by: workers) {
                let first = chunk * chunkRows, count = min(chunkRows, rows - first)
                forwardPass(x + first * inputs, rows: count, layers: range, workspace: workspace,
                            descending: descending)
                body(chunk, first, count, y)
            }
        }
    }

    /// The outputs of `layers` for every row of `x` (layers.first's inputSize wide), computed in chunks of
    /// up to `chunkRows` rows (rounded up to a multiple of 4).
    package func forward(_ x: Matrix, layers range: Range<Int>, chunkRows: Int = 2048) -> Matrix {
        synchronize()
        var output = Matrix(rows: x.rows, columns: layers[range.upperBound - 1].outputSize)
        guard x.rows > 0 else { return output }
        let workspace = makeWorkspace(capacity: (min(x.rows, chunkRows) + 3) / 4 * 4)
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
