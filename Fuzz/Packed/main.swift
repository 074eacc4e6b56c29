// libFuzzer target: a packed data file (what `pack` writes) read as `train --data` reads it, mapped: every row and
// target read back, and the rows streamed into a new packed file; a corrupt file must be refused, never crash.
#if canImport(Glibc)
import Glibc
#endif
import MLPData
import MLPKit

/// This process's scratch files (in memory when /dev/shm exists).
private let base: String = {
    let folder = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp"
    return "\(folder)/fuzz-packed-\(getpid())"
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPacked(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let path = base + ".safetensors"
    let file = fopen(path, "wb")!
    _ = fwrite(data, 1, size, file)
    fclose(file)
    // Errors are the expected outcome for most inputs; a crash, a trap or a hang is a bug.
    guard let loaded = try? LabeledData.load(path), loaded.count <= 100_000, loaded.featureCount <= 100_000 else {
        return 0
    }
    var row = [Float](repeating: 0, count: loaded.featureCount)
    for r in 0..<loaded.count { loaded.rows.copyRow(r, into: &row) }
    _ = loaded.rows.floats
    try? loaded.rows.checkUnchanged()
    if let writer = try? PackedDataWriter(path: base + "-again.safetensors", type: .f32, width: loaded.featureCount) {
        try? writer.append(loaded.rows, 0 ..< loaded.count)
        if case .numbers(let values, let columns) = loaded.target {
            try? writer.finish(y: values, columns: columns, classes: nil, shape: [loaded.featureCount], metadata: [:])
        }
    }
    return 0
}
