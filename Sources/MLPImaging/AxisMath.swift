// The arithmetic of chart axes: ranges fitted to data, "nice" ticks and their labels.
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Range fitting, "nice" tick selection and tick-label formatting.
enum AxisMath {
    /// `range` if both ends are finite, widened if empty; nil means "fit the data instead".
    static func usableRange(_ range: ClosedRange<Double>?) -> ClosedRange<Double>? {
        guard let range, range.lowerBound.isFinite, range.upperBound.isFinite else { return nil }
        return widened(range.lowerBound, range.upperBound)
    }

    /// The span of the finite `values`, padded by `padding` × span on each side; 0...1 when there are none.
    static func autoRange(_ values: [Double], padding: Double) -> ClosedRange<Double> {
        var lo = Double.infinity, hi = -Double.infinity
        for v in values where v.isFinite {
            lo = min(lo, v)
            hi = max(hi, v)
        }
        guard lo <= hi else { return 0...1 }
        let pad = (hi - lo) * padding
        return widened(lo - pad, hi + pad)
    }

    /// Gives an empty (or numerically empty) range some width around its value, so that mapping to
    /// pixels never divides by zero.
    static func widened(_ lo: Double, _ hi: Double) -> ClosedRange<Double> {
        if hi - lo > max(abs(lo), abs(hi)) * 1e-12 && (hi - lo).isFinite { return lo...hi }
        let mid = lo / 2 + hi / 2
        let half = mid == 0 ? 1 : abs(mid) * 0.1
        return (mid - half)...(mid + half)
    }

    /// Ticks at multiples of 1, 2 or 5 × 10^k inside `range`: the finest such spacing that gives at most
    /// `target` + 1 ticks (whole numbers only when `integer`, e.g. for epochs).
    static func ticks(_ range: ClosedRange<Double>, target: Int, integer: Bool) -> (step: Double, values: [Double]) {
        let span = range.upperBound - range.lowerBound
        let raw = span / Double(max(target, 1))
        guard raw.isFinite, raw > 0 else { return (1, []) }
        let magnitude = pow(10, floor(log10(raw)) - 1)
        var step = 100 * magnitude
        search: for scale in [1.0, 10, 100] {
            for m in [1.0, 2, 5] {
                let candidate = m * scale * magnitude
                if integer && candidate < 1 { continue }
                let values = tickValues(range, step: candidate)   // empty when absurdly many: too fine
                if !values.isEmpty && values.count <= max(target, 1) + 1 {
                    step = candidate
                    break search
                }
            }
        }
        if integer { step = max(step, 1) }
        return (step, tickValues(range, step: step))
    }

    /// Multiples of `step` inside `range` (none if there would be absurdly many).
    static func tickValues(_ range: ClosedRange<Double>, step: Double) -> [Double] {
        let first = (range.lowerBound / step - 1e-9).rounded(.up), last = (range.upperBound / step + 1e-9).rounded(.down)
        guard first <= last, last - first < 1000, abs(first) < 1e15, abs(last) < 1e15 else { return [] }
        return (Int(first)...Int(last)).map { Double($0) * step }
    }

    /// A tick label with just enough digits to tell ticks `step` apart: fixed-point for ordinary
    /// magnitudes, `2.5e-5` style for very small or very large ones (where zero is plain "0").
    static func label(_ v: Double, step: Double) -> String {
        guard v.isFinite, step.isFinite, step > 0 else { return "" }
        let k = Int(floor(log10(step) + 1e-9))
        // Zero gets the same decimals as its neighbours ("0.0" beside "0.2"), as in most plotting tools.
        if k >= -4 && abs(v) < 1e7 { return fixed(v, decimals: max(0, -k)) }
        if abs(v) < step * 1e-6 { return "0" }
        let e = Int(floor(log10(abs(v)) + 1e-9))
        return fixed(v / pow(10, Double(e)), decimals: max(0, e - k)) + "e" + String(e)
    }

    /// `v` rounded to `decimals` places, without Foundation's formatter.
    static func fixed(_ v: Double, decimals: Int) -> String {
        let scaled = (abs(v) * pow(10, Double(decimals))).rounded()
        guard scaled < 9e15 else { return String(v) }
        var digits = String(Int64(scaled))
        if decimals > 0 {
            if digits.count <= decimals { digits = String(repeating: "0", count: decimals + 1 - digits.count) + digits }
            digits.insert(".", at: digits.index(digits.endIndex, offsetBy: -decimals))
        }
        return (v < 0 && scaled != 0 ? "-" : "") + digits
    }
}
