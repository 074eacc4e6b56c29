// Progress on stderr: one line redrawn in place on a terminal, plain lines when stderr is a file or pipe.
import Foundation
import MLPKit

/// Shows training progress without flooding logs: redraws on a terminal, prints only finished steps elsewhere.
struct ProgressLine {
    let isTerminal = isatty(STDERR_FILENO) == 1
    private var lastDraw = Stopwatch()
    private var drawn = false

    /// Redraws the transient line (terminals only; at most 10 times a second).
    mutating func update(_ text: String) {
        guard isTerminal, lastDraw.seconds > 0.1 || !drawn else { return }
        lastDraw = Stopwatch()
        drawn = true
        if ClusterRun.quiet { return }
        FileHandle.standardError.write(Data(("\r\u{1B}[K" + text).utf8))
    }

    /// Prints a permanent line (replacing the transient one on a terminal).
    mutating func finish(_ text: String) {
        let prefix = isTerminal && drawn ? "\r\u{1B}[K" : ""
        drawn = false
        if ClusterRun.quiet { return }
        FileHandle.standardError.write(Data((prefix + text + "\n").utf8))
    }

    /// "1m05s" or "42s".
    static func duration(_ seconds: Double) -> String {
        guard seconds.isFinite, seconds >= 0 else { return "?" }
        let s = Int(seconds.rounded())
        return s >= 60 ? "\(s / 60)m\(String(format: "%02d", s % 60))s" : "\(s)s"
    }
}
