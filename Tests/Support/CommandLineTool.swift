// The built `mlp-train` tool, run as a user runs it: for the tests of the command line and of the jobs' files.
import Foundation
import MLPKit

/// The mlp-train binary next to the test bundle (SwiftPM builds it with the tests), or nil.
package let mlpTrainBinary: String? = {
    let folder = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    for candidate in [folder, folder.deletingLastPathComponent()] {
        let path = candidate.appendingPathComponent("mlp-train").path
        if FileManager.default.isExecutableFile(atPath: path) { return path }
    }
    print("skipping command-line tests: no mlp-train binary next to \(folder.path)")
    return nil
}()

/// Runs mlp-train with `arguments` (in `directory` when given), without $MLP_DATA unless `environment` sets it;
/// returns the exit status, stdout and stderr. Throws when there is no binary.
package func runTool(_ arguments: [String], environment: [String: String] = [:],
             directory: String? = nil) throws -> (status: Int32, out: String, err: String) {
    guard let binary = mlpTrainBinary else { throw MLPError("no mlp-train binary beside the test bundle") }
    var env = ProcessInfo.processInfo.environment
    env.removeValue(forKey: "MLP_DATA")
    for (key, value) in environment { env[key] = value }
    return try runProcess(binary, arguments, environment: env, directory: directory)
}

/// Runs `executable` with `arguments` (with `environment` and in `directory` when given); returns the exit
/// status, stdout and stderr.
package func runProcess(_ executable: String, _ arguments: [String], environment: [String: String]? = nil,
                        directory: String? = nil) throws -> (status: Int32, out: String, err: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
    process.arguments = arguments
    if let environment { process.environment = environment }
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    let errData = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: outData, as: UTF8.self), String(decoding: errData, as: UTF8.self))
}

