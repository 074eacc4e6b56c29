// Joining the processes `mpirun` started, or saying why this build cannot.
import MLPKit

/// A `ShardExchange` between processes, with what it cost.
package protocol ClusterExchange: ShardExchange {
    /// Seconds spent exchanging gradients, the exchanges made, and the bytes broadcast in them (each shard's
    /// results once, from the process that computed it).
    var seconds: Double { get }
    var exchanges: Int { get }
    var bytes: Int { get }
    /// Leaves the cluster (at the end of the program).
    func finish()
}

/// Training across processes started by `mpirun -np P`.
public enum Cluster {
    /// The exchange with the other processes when an MPI launcher started this one with P > 1; nil when it runs
    /// alone. A launch by `mpirun` that this build cannot join (built without `--traits MPI`) is an error, never
    /// P independent copies. `stop` is agreed among all ranks; an exchange that waits `timeout` seconds ends
    /// the job.
    package static func join(stop: StopRequest?, timeout: Double = 600) throws -> (any ClusterExchange)? {
        guard let launch = ClusterLaunch.detect(), launch.size > 1 else { return nil }
        #if MPI
        return try MPIExchange(stop: stop, timeout: timeout)
        #else
        throw MLPError("mlp-train was started by an MPI launcher (\(launch)), but this build has no MPI support: "
                       + "rebuild with `swift build -c release --traits MPI` (Open MPI: apt-get install "
                       + "libopenmpi-dev openmpi-bin). Refusing to train \(launch.size) independent copies.")
        #endif
    }
}
