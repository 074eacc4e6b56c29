// Fan-out over worker threads with DispatchQueue.concurrentPerform, and the one unsafe box it needs.
import Dispatch

/// Wraps a value that is shared across worker threads under a discipline the compiler cannot check:
/// every worker writes only memory it owns (its own workspace, shard buffer or output slot).
package struct UncheckedSendable<Value>: @unchecked Sendable {
    package let value: Value
    package init(value: Value) { self.value = value }
}

/// Runs `body(worker)` for worker in 0..<workers, concurrently when workers > 1 and inline otherwise.
/// Each worker must touch only memory that is its own.
package func forEachWorker(_ workers: Int, _ body: (Int) -> Void) {
    if workers <= 1 {
        for worker in 0..<max(workers, 0) { body(worker) }
        return
    }
    withoutActuallyEscaping(body) { body in
        let shared = UncheckedSendable(value: body)
        DispatchQueue.concurrentPerform(iterations: workers) { shared.value($0) }
    }
}

/// Runs `body(job)` for every job in 0..<count concurrently and returns the results in job order, or throws the
/// error of the first job (in job order) that failed. Each job must touch only memory that is its own.
package func concurrentMap<Value>(_ count: Int, _ body: (Int) throws -> Value) throws -> [Value] {
    var results = [Result<Value, any Error>?](repeating: nil, count: count)
    results.withUnsafeMutableBufferPointer { slots in
        let shared = UncheckedSendable(value: slots)
        forEachWorker(count) { job in shared.value[job] = Result { try body(job) } }
    }
    return try results.map { try $0!.get() }
}
