// Memory of each thread's own for kernels that repack their operands: grown when a call needs more, then kept.
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A 64-byte-aligned buffer of floats per thread, so a kernel can pack an operand without allocating on every
/// call: the first call on a thread allocates, a call that needs more grows it, and it is freed when the thread
/// ends. Its contents are undefined at each call.
enum ThreadScratch {
    /// The thread-specific key whose value is the thread's buffer (a header of one cache line, then the floats).
    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        let created = pthread_key_create(&key) { buffer in free(buffer) }
        precondition(created == 0, "pthread_key_create failed (\(created))")
        return key
    }()

    /// At least `count` floats of this thread's buffer.
    static func floats(_ count: Int) -> UnsafeMutablePointer<Float> {
        if let buffer = pthread_getspecific(key) {
            let capacity = buffer.load(as: Int.self)
            if capacity >= count { return (buffer + 64).assumingMemoryBound(to: Float.self) }
            free(buffer)
        }
        // Grown by half again at least, so a thread whose calls grow slowly allocates a few times only.
        let capacity = max(count + count / 2, 1 << 14)
        var raw: UnsafeMutableRawPointer?
        guard posix_memalign(&raw, 64, 64 + capacity * 4) == 0, let buffer = raw else {
            fatalError("out of memory for \(capacity) floats of a kernel's scratch")
        }
        buffer.storeBytes(of: capacity, as: Int.self)
        pthread_setspecific(key, buffer)
        return (buffer + 64).assumingMemoryBound(to: Float.self)
    }
}
