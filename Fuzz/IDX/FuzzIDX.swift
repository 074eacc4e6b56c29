// libFuzzer target: the IDX reader (plain and gzip) on an images file and a labels file made from the input.
//
// Input: byte 0 chooses each file's form (bits 0–1 the images', bits 2–3 the labels': 0 plain IDX, 1 the same
// gzip-compressed, 2 the raw bytes as a .gz file); bytes 1–2 (little-endian) split the rest into the two files.
#if canImport(Glibc)
import Glibc
#endif
import MLPData
import MLPKit

/// This process's scratch folder (in memory when /dev/shm exists).
private let folder: String = {
    let base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp"
    let path = "\(base)/fuzz-idx-\(getpid())"
    mkdir(path, 0o700)
    return path
}()

/// Writes `bytes` as an IDX file in `form`; returns its path.
private func write(_ bytes: [UInt8], name: String, form: UInt8) -> String {
    let path = folder + "/" + name + (form == 0 ? "" : ".gz")
    let contents = form == 1 ? Gzip.compress(bytes) : bytes
    let file = fopen(path, "wb")!
    _ = contents.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, file) }
    fclose(file)
    return path
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzIDX(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size >= 3 else { return 0 }
    let input = Array(UnsafeBufferPointer(start: data, count: size))
    let forms = input[0]
    let body = Array(input[3...])
    let split = min(body.count, Int(input[1]) | Int(input[2]) << 8)
    let images = write(Array(body[..<split]), name: "images-idx3-ubyte", form: forms & 3 == 3 ? 0 : forms & 3)
    let labels = write(Array(body[split...]), name: "labels-idx1-ubyte", form: (forms >> 2) & 3 == 3 ? 0 : (forms >> 2) & 3)
    defer {
        unlink(images)
        unlink(labels)
    }
    // Errors are the expected outcome for most inputs; a crash, a trap or a hang is a bug.
    if let digits = try? IDXLoader.load(images: images, labels: labels) {
        precondition(digits.labels.count == digits.count, "labels and images disagree")
    }
    return 0
}
