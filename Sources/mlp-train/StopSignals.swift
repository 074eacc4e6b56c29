// Ctrl-C and SIGTERM during training: the first finishes the step and saves, a second quits at once.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import ArgumentParser
import MLPCluster
import MLPJobs
import MLPKit

/// The stop request that SIGINT and SIGTERM make.
private let signalStop = StopRequest()

/// What the first signal prints (a static string: the handler may not allocate).
private let stoppingNote: StaticString =
    "\nstopping after this step: saving a checkpoint (press Ctrl-C again to quit at once)\n"

/// Makes SIGINT, SIGTERM and SIGUSR1 ask the training to stop after the current step (it then saves a checkpoint
/// and exits with 128 + the signal: 130, 143, 138); a second signal removes any file being written and exits at
/// once. Returns the request. SIGUSR1 is for runs under `mpirun`, which passes it on to every rank (SIGINT and
/// SIGTERM make mpirun end the ranks itself, a second later).
func installStopSignals() -> StopRequest {
    AtomicFile.prepareForSignals()
    _ = signalStop.isRequested
    // A parent may have started us with these signals blocked (the mask is inherited): take them.
    var mask = sigset_t()
    sigemptyset(&mask)
    for number in [SIGINT, SIGTERM, SIGUSR1] {
        sigaddset(&mask, number)
    }
    pthread_sigmask(SIG_UNBLOCK, &mask, nil)
    for number in [SIGINT, SIGTERM, SIGUSR1] {
        signal(number) { number in
            if signalStop.request(signal: number) {
                if !ClusterRun.quiet { _ = write(STDERR_FILENO, stoppingNote.utf8Start, stoppingNote.utf8CodeUnitCount) }
            } else {
                AtomicFile.removeTemporaryFiles()
                _exit(128 + number)
            }
        }
    }
    return signalStop
}

/// What a read past the end of a mapped file (SIGBUS: the file was cut short while mapped) prints before the exit.
private let truncatedNote: StaticString = """
    mlp-train: a mapped data file was cut short while it was being read (it must not change during a run); \
    stopped. Files already written are complete; files being written were removed.

    """

/// Turns SIGBUS, which a read of a mapped data file that another program truncated raises, into a message and
/// exit status 74 (EX_IOERR) instead of a crash; files being written are removed, as on a second stop signal.
func reportTruncatedMappings() {
    AtomicFile.prepareForSignals()
    signal(SIGBUS) { _ in
        _ = write(STDERR_FILENO, truncatedNote.utf8Start, truncatedNote.utf8CodeUnitCount)
        AtomicFile.removeTemporaryFiles()
        _exit(74)
    }
}

/// `--resume` and `--checkpoint-every`, shared by the training commands.
struct CheckpointingOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Continue the run saved in this checkpoint to --epochs in total.",
                               discussion: "Every other option that shapes the weights must be as in the "
                                   + "checkpoint (--threads may differ); the result is the same, bit for bit.",
                               valueName: "checkpoint"))
    var resume: String?

    @Option(help: ArgumentHelp("Also write checkpoint.safetensors every N steps (mini-batches, or samples for "
                               + "per-sample SGD); it is always written after every epoch.", valueName: "N"))
    var checkpointEvery: Int?

    /// The job's settings (the stop request is added when the job runs: `installStopSignals`).
    func options() -> CheckpointOptions {
        var options = CheckpointOptions()
        options.resume = resume
        options.commandLine = CommandLine.arguments
        return options
    }
}

/// How the steps went, for result lines: "per-sample sgd", or "adam, batches of 16".
func stepping(_ optimizer: String, batchSize: Int) -> String {
    batchSize == 1 ? "per-sample \(optimizer)" : "\(optimizer), batches of \(batchSize)"
}

/// A command that trains (`disc`, `classify`, `autoencoder`, `train`): SIGINT or SIGTERM stops it cleanly.

protocol TrainingCommand: ParsableCommand {
    /// Trains, stopping after the current step once `stop` is requested (the job then throws `JobInterrupted`);
    /// `cluster` holds the other processes under `mpirun` (for the commands that train across processes).
    func train(stop: StopRequest, cluster: ClusterRun) throws
    /// Whether the command trains across the processes `mpirun` starts (mini-batches); the others refuse.
    static var trainsAcrossProcesses: Bool { get }
}

extension TrainingCommand {
    /// Installs the signal handling and trains; when a signal stopped the job, prints where and how to resume,
    /// and exits with 128 + the signal (130 for SIGINT, 143 for SIGTERM).
    static var trainsAcrossProcesses: Bool { false }

    func run() throws {
        if !Self.trainsAcrossProcesses, let launch = ClusterLaunch.detect(), launch.size > 1 {
            throw MLPError("`\(Self.configuration.commandName ?? "this command")` does not split across processes (by "
                           + "default it trains by per-sample SGD, whose steps each need the one before); run it "
                           + "without mpirun: its threads share the work. `autoencoder` and `train` with "
                           + "--batch-size train across processes.")
        }
        let stop = installStopSignals()
        let cluster = Self.trainsAcrossProcesses ? try ClusterRun.join(stop: stop) : ClusterRun(exchange: nil)
        defer { cluster.finish() }
        do {
            try train(stop: stop, cluster: cluster)
        } catch let stop as JobInterrupted {
            printError(stop.description)
            throw ExitCode(128 + stop.signal)
        }
    }
}
