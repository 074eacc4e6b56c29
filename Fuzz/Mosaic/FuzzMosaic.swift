// libFuzzer target: the PNG mosaic loader with the input as class 0's mosaic (classes 1–9 are one valid tile).
#if canImport(Glibc)
import Glibc
#endif
import MLPData
import MLPImaging
import MLPKit

/// This process's split folder (in memory when /dev/shm exists), with 1.png … 9.png written once.
private let folder: String = {
    let base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp"
    let path = "\(base)/fuzz-mosaic-\(getpid())"
    mkdir(path, 0o700)
    let tile = GrayImage(width: 28, height: 28, pixels: (0..<784).map { UInt8($0 % 251) })
    for label in 1...9 { try! PNGFile.write(tile, to: path + "/\(label).png") }
    return path
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzMosaic(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let path = folder + "/0.png"
    let file = fopen(path, "wb")!
    fwrite(data, 1, size, file)
    fclose(file)
    // Errors are the expected outcome for most inputs; a crash, a trap or a hang is a bug.
    if let digits = try? MosaicLoader.load(split: folder) {
        precondition(digits.count >= 9 && digits.labels.count == digits.count, "tiles and labels disagree")
    }
    return 0
}
