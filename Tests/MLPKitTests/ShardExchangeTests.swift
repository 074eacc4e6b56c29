// Training split across "processes" (threads standing in for MPI ranks, exchanging through shared memory): the
// weights must be those of one process, bit for bit, for any number of them.
import Foundation
import Testing
@testable import MLPKit

/// P stand-ins for ranks meeting at a barrier to copy each other's shard gradients, as `MPIExchange` broadcasts
/// them.
private final class LoopbackHub: @unchecked Sendable {
    let count: Int
    private let condition = NSCondition()
    private var arrived = 0, generation = 0
    /// Each rank's gradient pointers and losses, published for the others to copy.
    var gradients: [UnsafePointer<UnsafeMutablePointer<Float>>?]
    var losses: [UnsafeMutablePointer<Float>?]
    var values: UnsafeMutablePointer<Float>?

    init(count: Int) {
        self.count = count
        gradients = Array(repeating: nil, count: count)
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

private final class LoopbackExchange: ShardExchange, @unchecked Sendable {
    let rank: Int
    let hub: LoopbackHub
    var count: Int { hub.count }
    private(set) var exchanges = 0

    init(rank: Int, hub: LoopbackHub) {
        self.rank = rank
        self.hub = hub
    }

    func exchange(gradients: UnsafePointer<UnsafeMutablePointer<Float>>, parameters: Int,
                  losses: UnsafeMutablePointer<Float>, shards: Int) {
        hub.gradients[rank] = gradients
        hub.losses[rank] = losses
        hub.barrier()
        for owner in 0..<count where owner != rank {
            for shard in shardBlock(owner, of: count, shards: shards) {
                gradients[shard].update(from: hub.gradients[owner]![shard], count: parameters)
                losses[shard] = hub.losses[owner]![shard]
            }
        }
        hub.barrier()
        exchanges += 1
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
        let alone = Self.network(seed: 1)
        try Trainer(network: alone, options: options).fit(Self.data)
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
                    try trainer.fit(Self.data)
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
    }

    @Test func perSampleSGDAndTheSparseFirstLayerRefuseToSplit() throws {
        let hub = LoopbackHub(count: 1)
        let perSample = try Trainer(network: Self.network(seed: 1), options: TrainingOptions(epochs: 1))
        perSample.exchange = LoopbackExchange(rank: 0, hub: hub)
        #expect { try perSample.fit(Self.data) } throws: { "\($0)".contains("per-sample SGD does not split") }
        let images = try TrainingSet(inputs: (0..<600 * 12).map { $0 % 7 == 0 ? 1 : 0 }, inputSize: 12,
                                     targets: .values([Float](repeating: 0, count: 1800), size: 3))
        let sparse = try Trainer(network: Self.network(seed: 1), options: TrainingOptions(epochs: 1, batchSize: 300))
        sparse.exchange = LoopbackExchange(rank: 0, hub: hub)
        #expect { try sparse.fit(images) } throws: { "\($0)".contains("--dense-first-layer") }
    }
}
