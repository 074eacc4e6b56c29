// The library's tests build the autoencoder from the test helpers: it must stay the job's network.
import Testing
import MLPJobs
import MLPKit
import TestSupport

@Suite struct AutoencoderNetworkTests {
    @Test func theTestsAutoencoderIsTheJobs() {
        let job = AutoencoderDemo.makeNetwork(seed: 5), tests = autoencoderNetwork(seed: 5)
        #expect(tests.layers == job.layers && tests.loss == job.loss && tests.inputSize == job.inputSize)
        #expect(firstMismatch(tests.parameters, job.parameters) == nil)
    }
}
