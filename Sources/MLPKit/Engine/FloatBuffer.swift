// Owned, aligned Float storage: with the kernels, the only code that touches raw pointers.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A fixed-size, zero-initialised, 64-byte-aligned block of Floats that the engine hands to its kernels.
/// Reference semantics on purpose: a network's parameters, a worker's gradients and a workspace's
/// activations are each one buffer that is written in place, never copied in the hot loop.
package final class FloatBuffer: @unchecked Sendable {
    /// Number of Floats.
    package let count: Int
    /// The first Float; valid for `count` elements until the buffer is released.
    package let pointer: UnsafeMutablePointer<Float>

    /// Allocates `count` zeroed Floats.
    package init(count: Int) {
        self.count = count
        let bytes = max(count, 1) * MemoryLayout<Float>.stride
        let raw = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
        raw.initializeMemory(as: UInt8.self, repeating: 0, count: bytes)
        pointer = raw.bindMemory(to: Float.self, capacity: max(count, 1))
    }

    /// Allocates a buffer holding a copy of `values`.
    package convenience init(_ values: [Float]) {
        self.init(count: values.count)
        values.withUnsafeBufferPointer { source in
            if let base = source.baseAddress { pointer.update(from: base, count: values.count) }
        }
    }

    deinit { UnsafeMutableRawPointer(pointer).deallocate() }

    /// A copy of the contents as an Array.
    package var array: [Float] { Array(UnsafeBufferPointer(start: pointer, count: count)) }

    /// Overwrites the contents with `values` (same count).
    package func assign(_ values: [Float]) {
        precondition(values.count == count, "expected \(count) values, got \(values.count)")
        values.withUnsafeBufferPointer { source in
            if let base = source.baseAddress { pointer.update(from: base, count: count) }
        }
    }

    /// Sets every element to zero.
    package func zero() { UnsafeMutableRawPointer(pointer).initializeMemory(as: UInt8.self, repeating: 0, count: count * 4) }
}
