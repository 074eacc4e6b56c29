// Training split across "processes" (threads standing in for MPI ranks, exchanging through shared memory): the
// weights must be those of one process, bit for bit, for any number of them.
import Foundation
import Testing
@testable import MLPKit
import TestSupport

/// P stand-ins for ranks meeting at a barrier to copy each other's shard gradients, as `MPIExchange` broadcasts
/// them.
final class LoopbackHub: @unchecked Sendable {
    let count: Int
    private let condition = NSCondition()
    private var arrived = 0, generation = 0
    /// Each rank's shard regions and losses, published for the others to copy.
    var regions: [UnsafePointer<ShardRegion>?]
    var losses: [UnsafeMutablePointer<Float>?]
    var values: UnsafeMutablePointer<Float>?

    init(count: Int) {
        self.count = count
        regions = Array(repeating: nil, count: count)
        losses = Array(repeating: nil, count: count)
    }

    func barrier() {
        condition.lock()
        let mine = generation
        arrived += 1
        if arrived == count {
            arrived = 0
            generation += 1
            condition.broadcast()
        } else {
            while generation == mine { condition.wait() }
        }
        condition.unlock()
    }
}

final class LoopbackExchange: ShardExchange, @unchecked Sendable {
    let rank: Int
    let hub: LoopbackHub
    var count: Int { hub.count }
    private(set) var exchanges = 0
    /// Floats one shard sends.
    private(set) var floats = 0

    init(rank: Int, hub: LoopbackHub) {
        self.rank = rank
        self.hub = hub
    }

    func exchange(regions: UnsafePointer<ShardRegion>, perShard: Int, losses: UnsafeMutablePointer<Float>,
                  shards: Int) {
        hub.regions[rank] = regions
        hub.losses[rank] = losses
        hub.barrier()
        for owner in 0..<count where owner != rank {
            for shard in shardBlock(owner, of: count, shards: shards) {
                for r in shard * perShard ..< (shard + 1) * perShard {
                    regions[r].start.update(from: hub.regions[owner]![r].start, count: regions[r].count)
                }
                losses[shard] = hub.losses[owner]![shard]
            }
        }
        hub.barrier()
        exchanges += 1
        floats = (0..<perShard).reduce(0) { $0 + regions[$1].count }
    }

    func broadcast(_ values: UnsafeMutablePointer<Float>, count: Int) {
        if rank == 0 { hub.values = values }
        hub.barrier()
        if rank != 0 { values.update(from: hub.values!, count: count) }
        hub.barrier()
    }
}

@Suite struct ShardExchangeTests {
    @Test func shardBlocksCoverEveryShardOnceInOrder() {
        for count in 1...5 {
            for shards in 0...9 {
                let blocks = (0..<count).map { shardBlock($0, of: count, shards: shards) }
                #expect(blocks.flatMap { Array($0) } == Array(0..<shards), "\(shards) shards on \(count)")
                #expect(blocks.map(\.count).max()! - blocks.map(\.count).min()! <= 1)
            }
        }
    }

    /// 600 samples of 12 inputs against 3 values; batches of 300 are 3 shards (128, 128, 44).
    static let data: TrainingSet = {
        let x = randomValues(600 * 12, seed: 21)
        let y = (0..<600).flatMap { i in (0..<3).map { j in tanh(x[i * 12 + j] - x[i * 12 + j + 5]) } }
        return try! TrainingSet(inputs: x, inputSize: 12, targets: .values(y, size: 3))
    }()

    static func network(seed: UInt64) -> MLP {
        let net = MLP(inputSize: 12, loss: .squared, seed: seed)
        net.addLayer(10, activation: .tanh)
        net.addLayer(3, activation: .identity)
        return net
    }

    static let optimizers: [Optimizer] = [.sgd, .adam(beta1: 0.9, beta2: 0.999, epsilon: 1e-8)]

    @Test(arguments: [2, 3, 4], optimizers)
    func weightsAreThoseOfOneProcess(processes: Int, optimizer: Optimizer) throws {
        let options = TrainingOptions(epochs: 2, learningRate: 0.001, batchSize: 300, optimizer: optimizer, threads: 1,
                                      seed: 5)
        try trainAcross(processes, options: options, data: Self.data)
    }

    /// 600 images of 12 pixels, 0 but for about one in five, against 3 values; batches of 300 are 3 shards.
    static let images: TrainingSet = {
        var generator = SplitMix64(seed: 22)
        let x: [Float] = (0..<600 * 12).map { _ in generator.nextUniform() < 0.8 ? 0 : Float(generator.nextUniform()) }
        let y: [Float] = (0..<600).flatMap { i -> [Float] in (0..<3).map { j in x[i * 12 + j] - x[i * 12 + j + 5] } }
        return try! TrainingSet(inputs: x, inputSize: 12, targets: .values(y, size: 3))
    }()

    @Test(arguments: [2, 3, 4])
    func theSparseFirstLayerTrainsAcrossProcessesToTheSameBits(processes: Int) throws {
        // SGD on images: the first layer is sparse in one process and across processes alike, each shard's
        // dL/dz of it sent instead of its gradient.
        let options = TrainingOptions(epochs: 2, learningRate: 0.01, batchSize: 300, threads: 1, seed: 6)
        #expect(try Trainer(network: Self.network(seed: 1), options: options).plan(for: Self.images).sparseFirstLayer)
        let exchanges = try trainAcross(processes, options: options, data: Self.images)
        // Layer 1's 33 parameters and layer 0's dL/dz (128 rows of 10), not layer 0's 130-parameter gradient.
        #expect(exchanges[0].floats == 33 + 128 * 10)
    }

    /// Trains `network(seed: 1)` on `data` in one process, then split across `processes` stand-ins for ranks
    /// (each starting from other weights, threads 1 or 2), and expects every rank to end with the one process's
    /// bits. Returns the ranks' exchanges.
    @discardableResult
    func trainAcross(_ processes: Int, options: TrainingOptions, data: TrainingSet) throws -> [LoopbackExchange] {
        let alone = Self.network(seed: 1)
        try Trainer(network: alone, options: options).fit(data)
        // Each rank starts from other weights: rank 0's are broadcast to all first.
        let hub = LoopbackHub(count: processes)
        let nets = UncheckedSendable(value: (0..<processes).map { Self.network(seed: $0 == 0 ? 1 : UInt64(100 + $0)) })
        let exchanges = (0..<processes).map { LoopbackExchange(rank: $0, hub: hub) }
        let finished = DispatchGroup()
        let failures = NSLock()
        nonisolated(unsafe) var errors: [any Error] = []
        for rank in 0..<processes {
            finished.enter()
            let thread = Thread {
                defer { finished.leave() }
                do {
                    var threaded = options
                    threaded.threads = 1 + rank % 2
                    let trainer = try Trainer(network: nets.value[rank], options: threaded)
                    trainer.exchange = exchanges[rank]
                    try trainer.fit(data)
                } catch {
                    failures.lock()
                    errors.append(error)
                    failures.unlock()
                }
            }
            thread.start()
        }
        #expect(finished.wait(timeout: .now() + 60) == .success, "the ranks did not finish")
        #expect(errors.isEmpty, "\(errors)")
        for rank in 0..<processes {
            #expect(firstMismatch(nets.value[rank].parameters, alone.parameters) == nil, "rank \(rank) of \(processes)")
        }
        #expect(exchanges[0].exchanges == 2 * 2, "two epochs of two batches")
        return exchanges
    }

    @Test func perSampleSGDRefusesToSplit() throws {
        let hub = LoopbackHub(count: 1)
        let perSample = try Trainer(network: Self.network(seed: 1), options: TrainingOptions(epochs: 1))
        perSample.exchange = LoopbackExchange(rank: 0, hub: hub)
        #expect { try perSample.fit(Self.data) } throws: { "\($0)".contains("per-sample SGD does not split") }
    }
}
