// A network's layers written as text: `128:relu,64:leaky-relu,10:softmax`, with names as `2:logistic@latent`.

/// The layers of a network as the command line writes them: comma-separated `units:activation` entries, each
/// optionally named with `@name` so that a pass can start or end there. The input size comes from the data.
///
/// Activations: `logistic` (or `sigmoid`), `relu`, `leaky-relu` (slope 0.01; `leaky-relu:0.2` for another),
/// `tanh`, `identity` (or `linear`) and `softmax` (last layer only). `_` may stand for `-`.
///
/// `dropout:p` before a layer drops a fraction p of that layer's inputs while training (`MLP.addDropout`):
/// `dropout:0.2,800:relu,dropout:0.5,10:softmax` drops 20% of the inputs and half of the hidden units.
public struct LayerSpec: Equatable, Sendable, CustomStringConvertible {
    /// One layer: its width, nonlinearity, optional name, and the dropout rate of its inputs.
    public struct Entry: Equatable, Sendable {
        public var units: Int
        public var activation: Activation
        public var name: String?
        /// The fraction of the layer's inputs dropped while training (0: none).
        public var dropout: Float

        /// A layer of `units` outputs.
        public init(units: Int, activation: Activation, name: String? = nil, dropout: Float = 0) {
            self.units = units
            self.activation = activation
            self.name = name
            self.dropout = dropout
        }
    }

    /// The layers, first to last.
    public var entries: [Entry]

    /// Layers given directly.
    public init(_ entries: [Entry]) {
        self.entries = entries
    }

    /// Parses `text` (`128:relu,10:softmax`); the error names the entry that is wrong and says what is expected.
    public init(parsing text: String) throws {
        let pieces = text.split(separator: ",", omittingEmptySubsequences: false)
            .map { $0.trimmingSpaces }
        guard !text.trimmingSpaces.isEmpty else { throw MLPError(field: "layers", "is empty; write e.g. 64:relu,10:softmax") }
        var entries: [Entry] = []
        var dropout: Float = 0
        for (index, piece) in pieces.enumerated() {
            func fail(_ problem: String) -> MLPError {
                MLPError(field: "layers", "entry \(index + 1) \"\(piece)\": \(problem) (write units:activation[@name], "
                         + "e.g. 64:relu or 2:logistic@latent, or dropout:rate before a layer)")
            }
            if piece.lowercased().hasPrefix("dropout:") {
                guard let rate = Float(piece.dropFirst(8).trimmingSpaces), rate.isFinite, rate >= 0, rate < 1 else {
                    throw fail("a dropout rate is a number in [0, 1)")
                }
                guard dropout == 0 else { throw fail("two dropouts in a row; give one rate") }
                guard index < pieces.count - 1 else { throw fail("a dropout must come before a layer, not last") }
                dropout = rate
                continue
            }
            var body = Substring(piece)
            var name: String?
            if let at = body.firstIndex(of: "@") {
                let label = body[body.index(after: at)...].trimmingSpaces
                guard !label.isEmpty, !label.contains(where: { $0 == "@" || $0 == ":" }) else {
                    throw fail("a layer name after @ must be non-empty and without @ or :")
                }
                name = label
                body = body[..<at]
            }
            let parts = body.split(separator: ":", maxSplits: 1).map { $0.trimmingSpaces }
            guard parts.count == 2, !parts[1].isEmpty else { throw fail("an activation is missing") }
            guard let units = Int(parts[0]) else { throw fail("\"\(parts[0])\" is not a number of units") }
            guard units > 0 else { throw fail("the number of units must be positive") }
            let activationName = parts[1].lowercased().replacingAll("-", with: "_")
            guard let activation = Activation(name: activationName) else {
                throw fail("unknown activation \"\(parts[1])\"; known: logistic, relu, leaky-relu, tanh, identity, "
                           + "softmax")
            }
            if activation == .softmax, index != pieces.count - 1 {
                throw fail("softmax is allowed on the last layer only")
            }
            if let name, entries.contains(where: { $0.name == name }) {
                throw fail("the name \"\(name)\" is already used by another layer")
            }
            entries.append(Entry(units: units, activation: activation, name: name, dropout: dropout))
            dropout = 0
        }
        self.entries = entries
    }

    /// The spec written back in its own syntax (slopes other than 0.01 as `leaky-relu:0.2`).
    public var description: String {
        entries.map { entry in
            (entry.dropout > 0 ? "dropout:\(entry.dropout)," : "") + "\(entry.units):"
                + entry.activation.name.replacingAll("_", with: "-") + (entry.name.map { "@" + $0 } ?? "")
        }.joined(separator: ",")
    }

    /// Outputs of the last layer.
    public var outputSize: Int { entries.last?.units ?? 0 }

    /// A network of these layers over `inputSize` inputs, weights drawn from `seed`; each layer starts as
    /// `initializer` says for its activation (by default randn × 0.1 whatever it is; `Initializer.suited(to:)`
    /// gives He for the ReLU family and Xavier for the others).
    public func network(inputSize: Int, loss: Loss, seed: UInt64,
                        initializer: (Activation) -> Initializer = { _ in .classic }) -> MLP {
        let net = MLP(inputSize: inputSize, loss: loss, seed: seed)
        for entry in entries {
            if entry.dropout > 0 { net.addDropout(entry.dropout) }
            net.addLayer(entry.units, activation: entry.activation, name: entry.name,
                         initializer: initializer(entry.activation))
        }
        return net
    }
}

extension StringProtocol {
    /// The text without leading and trailing spaces and tabs.
    var trimmingSpaces: String {
        String(drop(while: { $0 == " " || $0 == "\t" }).reversed().drop(while: { $0 == " " || $0 == "\t" }).reversed())
    }

    /// The text with every `target` replaced by `replacement` (the engine does without Foundation).
    func replacingAll(_ target: Character, with replacement: String) -> String {
        var result = ""
        for character in self {
            if character == target { result += replacement } else { result.append(character) }
        }
        return result
    }
}
