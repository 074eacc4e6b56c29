// Under `mpirun`: join the other processes, let rank 0 alone write files and progress, report the exchange's cost.
import Foundation
import MLPCluster
import MLPKit

/// This process's place in a run across processes (`mpirun -np P mlp-train …`), or a run alone.
struct ClusterRun {
    /// The exchange with the other ranks; nil when running alone.
    let exchange: (any ClusterExchange)?

    /// Set on ranks other than 0: they write no files and print nothing (`printError`, progress).
    nonisolated(unsafe) static var quiet = false

    /// Joins the ranks `mpirun` started, if it did (see `Cluster.join`); `MLP_MPI_TIMEOUT` sets how many
    /// seconds an exchange may wait for the others (default 600).
    static func join(stop: StopRequest) throws -> ClusterRun {
        let timeout = ProcessInfo.processInfo.environment["MLP_MPI_TIMEOUT"].flatMap(Double.init) ?? 600
        let exchange = try Cluster.join(stop: stop, timeout: timeout)
        quiet = (exchange?.rank ?? 0) != 0
        if let exchange, exchange.rank == 0 {
            printError("training across \(exchange.count) processes (MPI): each batch's shards split among them, "
                       + "each shard's gradient (or, for a sparse first layer, its dL/dz) exchanged every step")
        }
        return ClusterRun(exchange: exchange)
    }

    /// Whether this process writes the files and the progress.
    var leads: Bool { (exchange?.rank ?? 0) == 0 }

    /// Prints what the exchanges cost (rank 0) and leaves the cluster.
    func finish() {
        guard let exchange else { return }
        if leads, exchange.exchanges > 0 {
            let steps = Double(exchange.exchanges)
            printError(String(format: "gradient exchange across %d processes: %.2f ms and %.2f MB per step over %d "
                              + "steps (%.1f s in all)", exchange.count, 1000 * exchange.seconds / steps,
                              Double(exchange.bytes) / steps / 1e6, exchange.exchanges, exchange.seconds))
        }
        exchange.finish()
    }
}
