// Whether this process was started by an MPI launcher (mpirun, mpiexec, srun), read from the environment alone.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import MLPKit

/// The rank and size an MPI launcher gave this process, found without calling MPI, so that a build without MPI
/// support can tell that it was started by `mpirun` (and refuse) instead of training P independent copies.
public struct ClusterLaunch: Sendable, Equatable, CustomStringConvertible {
    /// This process's index, and the processes launched.
    public let rank: Int
    public let size: Int

    public var description: String { "rank \(rank) of \(size)" }

    /// Launchers' (rank, size) variables, most specific first: Open MPI, MPICH and Intel MPI (Hydra), MVAPICH2,
    /// Slurm's srun.
    static let variables = [("OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE"), ("PMI_RANK", "PMI_SIZE"),
                            ("MV2_COMM_WORLD_RANK", "MV2_COMM_WORLD_SIZE"), ("SLURM_PROCID", "SLURM_NTASKS")]

    /// The launch, or nil when no launcher started this process.
    public static func detect() -> ClusterLaunch? {
        func value(_ name: String) -> Int? { getenv(name).flatMap { Int(String(cString: $0)) } }
        for (rank, size) in variables {
            if let r = value(rank), let s = value(size), s > 0, (0..<s).contains(r) { return ClusterLaunch(rank: r, size: s) }
        }
        return nil
    }
}
