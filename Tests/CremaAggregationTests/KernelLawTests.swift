import Testing
@testable import CremaAggregation

/// The shared laws (`KernelLaws`) applied to every kernel.
@Suite struct KernelLawTests {
    @Test func count() throws {
        try KernelLaws(kernel: CountKernel(field: nil), isCommutative: true).check(seed: 1)
        try KernelLaws(kernel: CountKernel(field: 2), isCommutative: true).check(seed: 2)
    }

    @Test func sum() throws {
        try KernelLaws(kernel: SumKernel<Int64>(field: 0), isCommutative: true).check(seed: 3)
        try KernelLaws(kernel: SumKernel<Double>(field: 1), isCommutative: true, tolerance: 1e-9).check(seed: 4)
    }

    @Test func minAndMax() throws {
        for keepsLargest in [false, true] {
            try KernelLaws(kernel: ExtremumKernel<Int64>(field: 0, keepsLargest: keepsLargest), isCommutative: true).check(seed: 5)
            try KernelLaws(kernel: ExtremumKernel<Double>(field: 1, keepsLargest: keepsLargest), isCommutative: true).check(seed: 6)
            try KernelLaws(kernel: ExtremumKernel<String>(field: 2, keepsLargest: keepsLargest), isCommutative: true).check(seed: 7)
            try KernelLaws(kernel: ExtremumKernel<Bool>(field: 3, keepsLargest: keepsLargest), isCommutative: true).check(seed: 8)
        }
    }

    @Test func meanAndVariance() throws {
        try KernelLaws(kernel: MeanKernel(field: 0), isCommutative: true, tolerance: 1e-9).check(seed: 9)
        try KernelLaws(kernel: MeanKernel(field: 1), isCommutative: true, tolerance: 1e-9).check(seed: 10)
        try KernelLaws(kernel: VarianceKernel(field: 1), isCommutative: true, tolerance: 1e-9).check(seed: 11)
    }

    @Test func firstAndLast() throws {
        for keepsLatest in [false, true] {
            try KernelLaws(kernel: FirstLastKernel<String>(field: 2, keepsLatest: keepsLatest), isCommutative: false).check(seed: 12)
            try KernelLaws(kernel: FirstLastKernel<[Float]>(field: 4, keepsLatest: keepsLatest), isCommutative: false).check(seed: 13)
        }
    }

    @Test func lastN() throws {
        for distinct in [false, true] {
            try KernelLaws(kernel: LastNKernel<String>(field: 2, limit: 5, distinct: distinct), isCommutative: false).check(seed: 14)
            try KernelLaws(kernel: LastNKernel<Int64>(field: 0, limit: 7, distinct: distinct), isCommutative: false).check(seed: 15)
        }
    }

    @Test func sequence() throws {
        let kernel = SequenceKernel(fields: [0, 2, 4], names: ["n", "s", "v"], limit: 6)
        try KernelLaws(kernel: kernel, isCommutative: false).check(seed: 16)
    }

    @Test func topKAndHistogramBelowCapacity() throws {
        try KernelLaws(kernel: TopKKernel<String>(field: 2, k: 3, capacity: 100), isCommutative: true).check(seed: 17)
        try KernelLaws(kernel: TopKKernel<Int64>(field: 0, k: 4, capacity: 100), isCommutative: true).check(seed: 18)
        try KernelLaws(kernel: HistogramKernel<String>(field: 2, capacity: 100), isCommutative: true).check(seed: 19)
        try KernelLaws(kernel: HistogramKernel<Bool>(field: 3, capacity: 100), isCommutative: true).check(seed: 20)
        try KernelLaws(kernel: HistogramKernel<Double>(field: 1, capacity: 100), isCommutative: true).check(seed: 21)
    }

    @Test func approxDistinctSparseAndDense() throws {
        try KernelLaws(kernel: ApproxDistinctKernel<String>(field: 2), isCommutative: true).check(seed: 22)
        var wide = KernelLaws(kernel: ApproxDistinctKernel<Int64>(field: 0), isCommutative: true)
        wide.eventCount = 6_000
        wide.makeEvent = { generator in [.int(Int64.random(in: 0..<1_000_000, using: &generator))] }
        try wide.check(seed: 23, rounds: 2)
    }

    @Test func approxQuantile() throws {
        try KernelLaws(kernel: ApproxQuantileKernel(field: 1, quantiles: [0, 0.5, 0.99, 1]), isCommutative: true).check(seed: 24)
        try KernelLaws(kernel: ApproxQuantileKernel(field: 0, quantiles: [0.25]), isCommutative: true).check(seed: 25)
    }

    @Test func decayed() throws {
        let hour = Milliseconds.hour
        try KernelLaws(kernel: DecayedKernel(halfLife: hour, field: nil, weighsByValue: false), isCommutative: true, tolerance: 1e-9)
            .check(seed: 26)
        try KernelLaws(kernel: DecayedKernel(halfLife: hour, field: 0, weighsByValue: true), isCommutative: true, tolerance: 1e-9)
            .check(seed: 27)
    }
}
