// One CSV cell parsed as a Float, rounded exactly as `Float(String)` rounds it, without making a String.
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

extension CSVTable {
    /// 10^0 … 10^22, each exact as a Double (5^22 < 2^53), so each product below is exact.
    static let doublePowersOfTen: [Double] = (0...22).reduce(into: []) { powers, k in
        powers.append(k == 0 ? 1 : powers[k - 1] * 10)
    }
    /// 10^0 … 10^10, each exact as a Float (5^10 < 2^24).
    static let floatPowersOfTen: [Float] = doublePowersOfTen[0...10].map { Float(exactly: $0)! }

    /// The common cell, 1 to 7 digits then a comma or the row's `end`, read 8 bytes at once (p[i ..< i + 8]
    /// must be readable): its value (exact, below 2^24) and where it ends; nil for anything else.
    @inline(__always)
    static func shortInteger(_ p: UnsafePointer<UInt8>, at i: Int, end: Int) -> (Float, Int)? {
        let word = UInt64(littleEndian: UnsafeRawPointer(p + i).loadUnaligned(as: UInt64.self))
        // A byte is a digit when its high nibble is 3 and its low nibble under 10 (adding 6 keeps the high
        // nibble 3). Bytes are in memory order from the low end; a carry only reaches bytes past a non-digit.
        let highNibbles: UInt64 = 0xF0F0_F0F0_F0F0_F0F0, threes: UInt64 = 0x3030_3030_3030_3030
        let notDigits = ((word & highNibbles) ^ threes) | (((word &+ 0x0606_0606_0606_0606) & highNibbles) ^ threes)
        let digits = notDigits.trailingZeroBitCount >> 3
        guard digits > 0 && digits < 8 && i + digits <= end else { return nil }
        guard i + digits == end || (word >> UInt64(digits << 3)) & 0xFF == UInt64(comma) else { return nil }
        // Shift the digits to the top, zeros (leading zeros of the number) below, then combine pairs, quads, eights.
        var v = (word &- threes) << UInt64((8 - digits) << 3)
        v = (v &* 10 &+ (v >> 8)) & 0x00FF_00FF_00FF_00FF
        v = (v &* 100 &+ (v >> 16)) & 0x0000_FFFF_0000_FFFF
        v = (v &* 10000 &+ (v >> 32)) & 0xFFFF_FFFF
        return (Float(v), i + digits)
    }

    /// The value of the quoted field at `i` when it holds a finite number (spaces around it allowed, inside the
    /// quotes and after them), and where the field ends; nil otherwise.
    static func quotedNumber(
        _ p: UnsafePointer<UInt8>, at i: Int, end: Int,
        _ floatPowers: UnsafeBufferPointer<Float>, _ doublePowers: UnsafeBufferPointer<Double>
    ) -> (Float, Int)? {
        guard i < end && p[i] == quote, let found = memchr(p + i + 1, Int32(quote), end - i - 1) else { return nil }
        let close = UnsafeRawPointer(found).assumingMemoryBound(to: UInt8.self) - p
        let (value, next) = parseNumber(p, from: i + 1, to: close, floatPowers, doublePowers)
        guard next == close && value.isFinite else { return nil }
        var fieldEnd = close + 1
        while fieldEnd < end && (p[fieldEnd] == space || p[fieldEnd] == tab) { fieldEnd += 1 }
        guard fieldEnd == end || p[fieldEnd] == comma else { return nil }
        return (value, fieldEnd)
    }

    /// The value of `text` when it is a number, spaces around it allowed (±infinity beyond Float's range).
    static func plainNumber(_ text: [UInt8]) -> Float? {
        text.withUnsafeBufferPointer { buffer -> Float? in
            guard let p = buffer.baseAddress else { return nil }
            let (value, next) = floatPowersOfTen.withUnsafeBufferPointer { floatPowers in
                doublePowersOfTen.withUnsafeBufferPointer { doublePowers in
                    parseNumber(p, from: 0, to: buffer.count, floatPowers, doublePowers)
                }
            }
            return next == buffer.count ? value : nil
        }
    }

    /// Parses a number at p[from...], spaces around it allowed, up to a comma or `end`: the value (±infinity
    /// beyond Float's range) and where it stopped (at the comma or `end`), or next = -1 when the text is not a
    /// number. Rounds as `Float(String)` does: exactly, to nearest even.
    @inline(__always)
    static func parseNumber(
        _ p: UnsafePointer<UInt8>, from: Int, to end: Int,
        _ floatPowers: UnsafeBufferPointer<Float>, _ doublePowers: UnsafeBufferPointer<Double>
    ) -> (value: Float, next: Int) {
        var i = from
        while i < end && (p[i] == space || p[i] == tab) { i += 1 }
        let textStart = i
        var negative = false
        if i < end && (p[i] == UInt8(ascii: "-") || p[i] == UInt8(ascii: "+")) {
            negative = p[i] == UInt8(ascii: "-")
            i += 1
        }
        // mantissa: the first 19 significant digits (fits a UInt64); exponent: the power of ten to scale it by.
        var mantissa: UInt64 = 0, significant = 0, digits = 0, exponent = 0
        while i < end {
            let digit = p[i] &- UInt8(ascii: "0")
            if digit >= 10 { break }
            if mantissa != 0 || digit != 0 {
                if significant < 19 { mantissa = mantissa &* 10 &+ UInt64(digit) } else { exponent += 1 }
                significant += 1
            }
            digits += 1
            i += 1
        }
        if i < end && p[i] == UInt8(ascii: ".") {
            i += 1
            while i < end {
                let digit = p[i] &- UInt8(ascii: "0")
                if digit >= 10 { break }
                if mantissa != 0 || digit != 0 {
                    if significant < 19 { mantissa = mantissa &* 10 &+ UInt64(digit); exponent -= 1 }
                    significant += 1
                } else {
                    exponent -= 1
                }
                digits += 1
                i += 1
            }
        }
        guard digits > 0 else { return (0, -1) }
        if i < end && (p[i] | 0x20) == UInt8(ascii: "e") {
            i += 1
            var negativeExponent = false
            if i < end && (p[i] == UInt8(ascii: "-") || p[i] == UInt8(ascii: "+")) {
                negativeExponent = p[i] == UInt8(ascii: "-")
                i += 1
            }
            var written = 0, exponentDigits = 0
            while i < end {
                let digit = p[i] &- UInt8(ascii: "0")
                if digit >= 10 { break }
                if written < 100_000 { written = written * 10 + Int(digit) }
                exponentDigits += 1
                i += 1
            }
            guard exponentDigits > 0 else { return (0, -1) }
            exponent += negativeExponent ? -written : written
        }
        let textEnd = i
        while i < end && (p[i] == space || p[i] == tab) { i += 1 }
        guard i == end || p[i] == comma else { return (0, -1) }

        var value: Float
        if mantissa == 0 {
            value = 0
        } else if mantissa < 1 << 24 && exponent >= -10 && exponent <= 10 {
            // Exact mantissa and power of ten, so one multiply or divide rounds correctly.
            let m = Float(mantissa)
            value = exponent >= 0 ? m * floatPowers[exponent] : m / floatPowers[-exponent]
        } else if let rounded = roundedViaDouble(mantissa, exponent, significant > 19, doublePowers) {
            value = rounded
        } else {
            // Rare (a tie within the Double estimate's error, or an exponent beyond 10^±22): the library.
            let text = String(decoding: UnsafeBufferPointer(start: p + textStart, count: textEnd - textStart),
                              as: UTF8.self)
            guard let parsed = Float(text) else { return (0, -1) }
            return (parsed, i)
        }
        return (negative ? -value : value, i)
    }

    /// mantissa × 10^exponent rounded to a Float, when a Double estimate settles it: the estimate is within
    /// 2^-51 of the true value relatively (one rounding converting the mantissa, one scaling by an exact power of
    /// ten, and under 10^-18 more when digits were dropped), so when no Float rounding boundary — the midpoint
    /// between two adjacent Floats — lies that close to it, the true value rounds to the same Float. nil when
    /// one does (the caller then asks the library).
    @inline(__always)
    static func roundedViaDouble(
        _ mantissa: UInt64, _ exponent: Int, _ dropped: Bool, _ powers: UnsafeBufferPointer<Double>
    ) -> Float? {
        guard exponent >= -22 && exponent <= 22 else { return nil }
        let m = Double(mantissa)
        let estimate = exponent >= 0 ? m * powers[exponent] : m / powers[-exponent]
        let nearest = Float(estimate)
        guard nearest.isFinite && nearest < .greatestFiniteMagnitude else { return nil }
        // Exact when nothing was rounded: mantissa and product both below 2^53.
        if !dropped && mantissa < 1 << 53 && exponent >= 0 && estimate < 9_007_199_254_740_992 { return nearest }
        let margin = estimate * 0x1p-51
        let below = (Double(nearest) + Double(nearest.nextDown)) / 2
        let above = (Double(nearest) + Double(nearest.nextUp)) / 2
        guard estimate - below > margin && above - estimate > margin else { return nil }
        return nearest
    }
}
