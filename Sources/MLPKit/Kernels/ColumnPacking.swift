// Blocks of a matrix's columns copied so each block's rows lie together: the 16-lane backward kernels' packing.

/// Copies `count` blocks of `width` columns of m rows (`stride` apart) so each block's rows lie together:
/// block c, row r at (c·m + r)·width.
@inline(never)
func packColumns(_ out: UnsafeMutablePointer<Float>, _ from: UnsafePointer<Float>, m: Int, stride: Int,
                 width: Int, count: Int) {
    var c = 0
    while c < count {
        var r = 0
        while r < m {
            let source = from + (r &* stride &+ c &* width), target = out + (c &* m &+ r) &* width
            var i = 0
            while i < width {
                store8(load8(source + i), target + i)
                i &+= 8
            }
            r &+= 1
        }
        c &+= 1
    }
}
