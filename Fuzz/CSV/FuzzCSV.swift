// libFuzzer target: the CSV reader and `train`'s reading of a table (target choice and encoding) on any bytes.
#if canImport(Glibc)
import Glibc
#endif
import MLPData
import MLPKit

/// This process's scratch file (in memory when /dev/shm exists).
private let path: String = {
    let base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp"
    return "\(base)/fuzz-csv-\(getpid()).csv"
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCSV(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    // The table itself: every column as text, as numbers, and all of them at once.
    if let table = try? CSVTable(bytes: bytes, path: "fuzz.csv") {
        for column in table.columns.indices {
            _ = table.strings(column: column)
            _ = table.isNumeric(column: column)
            _ = try? table.numbers(columns: [column])
        }
        _ = try? table.numbers(columns: Array(table.columns.indices))
        _ = try? table.columnIndex(named: "target")
    }
    // What `train` does with it: features and target, the encoding under each task, the targets, a split.
    let file = fopen(path, "wb")!
    _ = bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, file) }
    fclose(file)
    defer { unlink(path) }
    guard let table = try? LabeledData.load(path) else { return 0 }
    for task in TargetEncoding.Task.allCases {
        if let encoding = try? TargetEncoding.choose(for: table, task: task) {
            _ = try? encoding.targets(for: table)
        }
    }
    _ = try? table.split(validationFraction: 0.25, seed: 1)
    return 0
}
