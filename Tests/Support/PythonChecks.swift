// The Python that checks our files with other tools (ONNX Runtime): $MLP_PYTHON, else the checkout's .build-venv.
import Foundation
import MLPKit

/// The root of the checkout (for scripts/).
package let checkoutRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().path

/// A Python with the checking tools of scripts/requirements.txt (onnx, onnxruntime, numpy, tensorboard, safetensors):
/// $MLP_PYTHON, else `.build-venv/bin/python3` (which `.ci/run` creates with those versions), when it imports
/// them; nil otherwise.
package let pythonTools: String? = {
    let candidates = [ProcessInfo.processInfo.environment["MLP_PYTHON"], checkoutRoot + "/.build-venv/bin/python3"]
    for case let path? in candidates where FileManager.default.isExecutableFile(atPath: path) {
        if let result = try? runPython(path, ["-c", "import onnx, onnxruntime, numpy, tensorboard, safetensors"]), result.status == 0 {
            return path
        }
    }
    return nil
}()

/// Runs `python` with `arguments`; returns the exit status and what it printed on stdout and stderr.
package func runPython(_ python: String, _ arguments: [String]) throws -> (status: Int32, out: String, err: String) {
    try runProcess(python, arguments)
}

/// A Python with torch (Debian's python3-torch, which `.ci/run` installs): $MLP_TORCH_PYTHON, else
/// /usr/bin/python3, when it imports torch; nil otherwise.
package let pythonWithTorch: String? = {
    let candidates = [ProcessInfo.processInfo.environment["MLP_TORCH_PYTHON"], "/usr/bin/python3"]
    for case let path? in candidates where FileManager.default.isExecutableFile(atPath: path) {
        if let result = try? runPython(path, ["-c", "import torch"]), result.status == 0 { return path }
    }
    return nil
}()
