#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Testing
@testable import CremaAggregation

/// HyperLogLog and DDSketch meet their error bounds.
@Suite struct SketchAccuracyTests {
    @Test(arguments: [1_000, 10_000, 100_000])
    func hyperLogLogWithinTwoPercent(distinct: Int) {
        let kernel = ApproxDistinctKernel<String>(field: 0)
        var whole = kernel.empty
        var halves = (kernel.empty, kernel.empty)
        for index in 0..<distinct {
            let hash = kernel.input(from: [.string("user-\(index)")])!
            for _ in 0..<(index.isMultiple(of: 3) ? 2 : 1) { kernel.add(hash, time: 0, arrival: 0, to: &whole) }
            if index.isMultiple(of: 2) { kernel.add(hash, time: 0, arrival: 0, to: &halves.0) } else { kernel.add(hash, time: 0, arrival: 0, to: &halves.1) }
        }
        kernel.merge(halves.1, into: &halves.0)
        #expect(halves.0 == whole, "merging halves gives the same registers")
        guard case .int(let estimate) = kernel.result(of: whole, at: 0) else {
            Issue.record("approx_distinct is not an int")
            return
        }
        let error = abs(Double(estimate - Int64(distinct))) / Double(distinct)
        #expect(error <= 0.02, "estimate \(estimate) for \(distinct)")
    }

    @Test func hyperLogLogIntegersAndSmallSets() {
        let kernel = ApproxDistinctKernel<Int64>(field: 0)
        var state = kernel.empty
        #expect(kernel.result(of: state, at: 0) == .int(0))
        for value in 0..<50 { kernel.add(kernel.input(from: [.int(Int64(value) * 7_919)])!, time: 0, arrival: 0, to: &state) }
        #expect(kernel.result(of: state, at: 0) == .int(50))
        var bytes: [UInt8] = []
        kernel.encode(state, into: &bytes)
        #expect(bytes.count < 200, "a tile with few values stays small: \(bytes.count) bytes")
        for value in 0..<30_000 { kernel.add(kernel.input(from: [.int(Int64(value))])!, time: 0, arrival: 0, to: &state) }
        guard case .int(let estimate) = kernel.result(of: state, at: 0) else { return }
        #expect(abs(Double(estimate) - 30_000) / 30_000 <= 0.02, "estimate \(estimate)")
    }

    /// Named value distributions for DDSketch.
    static let distributions: [(String, @Sendable (inout SplitMix64) -> Double)] = [
        ("uniform", { Double.random(in: 1...1_000, using: &$0) }),
        ("exponential", { -log(Double.random(in: Double.ulpOfOne...1, using: &$0)) * 50 }),
        ("normal with negatives and zeros", { generator in
            if Int.random(in: 0..<20, using: &generator) == 0 { return 0 }
            return (0..<12).map { _ in Double.random(in: 0...1, using: &generator) }.reduce(0, +) * 40 - 240
        }),
        ("log-uniform over 12 decades", { pow(10, Double.random(in: -6...6, using: &$0)) }),
        ("integers", { Double(Int.random(in: -1_000...100_000, using: &$0)) }),
    ]

    @Test(arguments: 0..<distributions.count)
    func ddSketchWithinOnePercent(distribution: Int) {
        let (name, draw) = Self.distributions[distribution]
        var generator = SplitMix64(seed: UInt64(distribution) + 1)
        let quantiles = [0, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99, 0.999, 1]
        let kernel = ApproxQuantileKernel(field: 0, quantiles: quantiles)
        var state = kernel.empty
        var values: [Double] = []
        for _ in 0..<50_000 {
            let value = draw(&generator)
            values.append(value)
            kernel.add(value, time: 0, arrival: 0, to: &state)
        }
        values.sort()
        guard case .list(let results) = kernel.result(of: state, at: 0) else {
            Issue.record("approx_quantile is not a list")
            return
        }
        for (quantile, result) in zip(quantiles, results) {
            let exact = values[Int((quantile * Double(values.count - 1)).rounded(.down))]
            guard case .float(let estimate) = result else { continue }
            #expect(abs(estimate - exact) <= 0.01 * abs(exact) + 1e-12, "\(name) q\(quantile): \(estimate) vs \(exact)")
        }
    }

    @Test func ddSketchBinsStayBounded() {
        var sketch = DDSketch()
        var exponent = -250.0
        while exponent <= 250 {
            sketch.add(pow(10, exponent))
            sketch.add(-pow(10, exponent))
            exponent += 0.01
        }
        #expect(sketch.positive.indexRange!.count <= BinStore.maximumBins)
        #expect(sketch.negative.indexRange!.count <= BinStore.maximumBins)
        let top = sketch.quantile(1)!
        #expect(abs(top - 1e250) <= 0.01 * 1e250, "the largest values keep their accuracy: \(top)")
        let bottom = sketch.quantile(0)!
        #expect(abs(bottom + 1e250) <= 0.01 * 1e250, "the most negative values keep their accuracy: \(bottom)")
    }
}
