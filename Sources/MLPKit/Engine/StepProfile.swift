// Where a step's time goes, block by block, and the bound that puts on any number of threads.

/// The measured blocks of a step plan run on one thread, summed over the steps profiled: its work (all the
/// blocks' time) and its span (the longest chain of tasks, each counted by its slowest block, plus the cost of
/// handing a finished task to a waiting thread). They bound a step on T threads from below:
/// time ≥ max(work / T, span). A model, not a measurement of T threads: it leaves out memory bandwidth shared
/// between cores and anything that slows a block down when others run beside it.
package struct StepProfile: Sendable {
    /// One task's blocks.
    package struct Task: Sendable {
        /// What it does, as `kind layer shard` (e.g. "forward 3 s0").
        package let name: String
        package let blocks: Int
        /// The mean seconds per step of all its blocks, and of its slowest block.
        package let seconds: Double
        package let slowest: Double
        /// The tasks it waits for.
        package let after: [Int]
    }

    package let tasks: [Task]
    /// Mean seconds per step of the whole step as timed from outside (blocks, waits and bookkeeping).
    package let stepSeconds: Double

    /// The sum of every block's time, per step.
    package var work: Double { tasks.reduce(0) { $0 + $1.seconds } }

    /// The longest chain of tasks through the plan, each task counted by its slowest block, plus `boundary`
    /// seconds for each hand-over between tasks.
    package func span(boundary: Double) -> Double {
        var finish = [Double](repeating: 0, count: tasks.count)
        for (t, task) in tasks.enumerated() {
            let start = task.after.map { finish[$0] + boundary }.max() ?? 0
            finish[t] = start + task.slowest
        }
        return finish.max() ?? 0
    }

    /// The seconds a hand-over between two threads takes on this machine (one finishes a block, the other, waiting
    /// for it, starts), measured by passing a count back and forth.
    package static func measureHandOver() -> Double { StepSync.handOverSeconds() }

    /// The least time a step can take on `threads` threads by this model: max(work / T, span).
    package func bound(threads: Int, boundary: Double) -> Double {
        max(work / Double(threads), span(boundary: boundary))
    }

    /// The seconds per step of the tasks whose name starts with each kind, in the plan's order.
    package var secondsByKind: [(kind: String, seconds: Double)] {
        var order: [String] = [], sums: [String: Double] = [:]
        for task in tasks {
            let kind = String(task.name.prefix { $0 != " " })
            if sums[kind] == nil { order.append(kind) }
            sums[kind, default: 0] += task.seconds
        }
        return order.map { ($0, sums[$0]!) }
    }
}

extension StepProfile {
    /// The profile of `plan` from `blockSeconds` (seconds per block, summed over `steps` steps) and the steps'
    /// total time.
    init(plan: StepPlan, blockSeconds: UnsafePointer<Double>, steps: Int, totalSeconds: Double) {
        let perStep = 1 / Double(max(steps, 1))
        tasks = plan.tasks.map { task in
            let times = (0..<task.blocks).map { blockSeconds[task.firstBlock + $0] * perStep }
            let name = "\(task.kind) \(task.layer)" + (task.shard >= 0 ? " s\(task.shard)" : "")
            return Task(name: name, blocks: task.blocks, seconds: times.reduce(0, +), slowest: times.max() ?? 0,
                        after: task.after.map { plan.dependencies[$0] })
        }
        stepSeconds = totalSeconds * perStep
    }
}
