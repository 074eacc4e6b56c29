// CRC-32C (Castagnoli), the checksum TensorBoard's record framing uses. Hand-written: no listed package computes
// it (zlib and swift-nio-extras have CRC-32 with the other polynomial), and it is a dozen lines.

/// CRC-32C of bytes, table-driven (reflected polynomial 0x82F63B78), and TFRecord's masked form of it.
package enum CRC32C {
    static let table: [UInt32] = (0..<256).map { n in
        var c = UInt32(n)
        for _ in 0..<8 { c = c & 1 != 0 ? 0x82F6_3B78 ^ (c >> 1) : c >> 1 }
        return c
    }

    /// The checksum of `bytes`.
    package static func checksum(_ bytes: some Sequence<UInt8>) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes { crc = table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
        return ~crc
    }

    /// The checksum rotated and offset as TFRecord files store it, so that a CRC of data holding CRCs stays strong.
    package static func masked(_ bytes: some Sequence<UInt8>) -> UInt32 {
        let crc = checksum(bytes)
        return ((crc >> 15) | (crc << 17)) &+ 0xA282_EAD8
    }
}
