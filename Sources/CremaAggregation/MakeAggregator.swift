/// Builds the aggregator for an operation over its inputs (empty for a count of events;
/// several for sequence) and windows (empty for lifetime). Throws for a combination the spec
/// validator should already have rejected (e.g. sum of a string).
///
/// - Complexity: O(windows² + inputs).
public func makeAggregator(
    operation: Operation, inputs: [AggregateInput], windows: [Window]
) throws(AggregationError) -> SpecializedAggregator {
    for window in windows where window.length <= 0 || window.hop <= 0 {
        throw AggregationError(.unsupportedAggregate, "window \(window.name) needs a positive length and hop")
    }
    if !windows.isEmpty && !operation.takesWindows {
        throw AggregationError(.unsupportedAggregate, "\(operation.name) takes no windows")
    }
    switch operation {
    case .count:
        guard inputs.count <= 1 else { throw unsupported(operation, "at most one field") }
        return assemble(CountKernel(field: inputs.first?.index), windows)
    case .sequence(let n):
        guard !inputs.isEmpty, n > 0 else { throw unsupported(operation, "fields and n > 0") }
        return assemble(SequenceKernel(fields: inputs.map(\.index), names: inputs.map(\.name), limit: n), windows)
    case .decayedCount(let halfLife):
        guard inputs.count <= 1, halfLife > 0 else { throw unsupported(operation, "a positive half_life") }
        return assemble(DecayedKernel(halfLife: halfLife, field: inputs.first?.index, weighsByValue: false), windows)
    default:
        break
    }
    guard inputs.count == 1, let input = inputs.first else { throw unsupported(operation, "exactly one field") }
    let field = input.index
    switch (operation, input.type) {
    case (.sum, .int):
        return assemble(SumKernel<Int64>(field: field), windows)
    case (.sum, .float):
        return assemble(SumKernel<Double>(field: field), windows)
    case (.mean, _) where input.type.isNumeric:
        return assemble(MeanKernel(field: field), windows)
    case (.variance, _) where input.type.isNumeric:
        return assemble(VarianceKernel(field: field), windows)
    case (.approxQuantile(let quantiles), _) where input.type.isNumeric:
        guard !quantiles.isEmpty, quantiles.allSatisfy({ $0 >= 0 && $0 <= 1 }) else {
            throw unsupported(operation, "quantiles in [0, 1]")
        }
        return assemble(ApproxQuantileKernel(field: field, quantiles: quantiles), windows)
    case (.decayedSum(let halfLife), _) where input.type.isNumeric:
        guard halfLife > 0 else { throw unsupported(operation, "a positive half_life") }
        return assemble(DecayedKernel(halfLife: halfLife, field: field, weighsByValue: true), windows)
    case (.min, _), (.max, _):
        let keepsLargest = operation == .max
        switch input.type {
        case .int: return assemble(ExtremumKernel<Int64>(field: field, keepsLargest: keepsLargest), windows)
        case .float: return assemble(ExtremumKernel<Double>(field: field, keepsLargest: keepsLargest), windows)
        case .string: return assemble(ExtremumKernel<String>(field: field, keepsLargest: keepsLargest), windows)
        case .bool: return assemble(ExtremumKernel<Bool>(field: field, keepsLargest: keepsLargest), windows)
        case .vector: throw unsupported(operation, "an ordered field, not \(input.type)")
        }
    case (.first, _), (.last, _):
        let keepsLatest = operation == .last
        switch input.type {
        case .int: return assemble(FirstLastKernel<Int64>(field: field, keepsLatest: keepsLatest), windows)
        case .float: return assemble(FirstLastKernel<Double>(field: field, keepsLatest: keepsLatest), windows)
        case .string: return assemble(FirstLastKernel<String>(field: field, keepsLatest: keepsLatest), windows)
        case .bool: return assemble(FirstLastKernel<Bool>(field: field, keepsLatest: keepsLatest), windows)
        case .vector: return assemble(FirstLastKernel<[Float]>(field: field, keepsLatest: keepsLatest), windows)
        }
    case (.lastN(let n, let distinct), _):
        guard n > 0 else { throw unsupported(operation, "n > 0") }
        switch input.type {
        case .int: return assemble(LastNKernel<Int64>(field: field, limit: n, distinct: distinct), windows)
        case .float: return assemble(LastNKernel<Double>(field: field, limit: n, distinct: distinct), windows)
        case .string: return assemble(LastNKernel<String>(field: field, limit: n, distinct: distinct), windows)
        case .bool: return assemble(LastNKernel<Bool>(field: field, limit: n, distinct: distinct), windows)
        case .vector: return assemble(LastNKernel<[Float]>(field: field, limit: n, distinct: distinct), windows)
        }
    case (.topK(let k, let capacity), _):
        guard k > 0, capacity > 0 else { throw unsupported(operation, "k > 0 and capacity > 0") }
        switch input.type {
        case .int: return assemble(TopKKernel<Int64>(field: field, k: k, capacity: capacity), windows)
        case .float: return assemble(TopKKernel<Double>(field: field, k: k, capacity: capacity), windows)
        case .string: return assemble(TopKKernel<String>(field: field, k: k, capacity: capacity), windows)
        case .bool: return assemble(TopKKernel<Bool>(field: field, k: k, capacity: capacity), windows)
        case .vector: throw unsupported(operation, "a categorical field, not \(input.type)")
        }
    case (.histogram(let capacity), _):
        guard capacity > 0 else { throw unsupported(operation, "capacity > 0") }
        switch input.type {
        case .int: return assemble(HistogramKernel<Int64>(field: field, capacity: capacity), windows)
        case .float: return assemble(HistogramKernel<Double>(field: field, capacity: capacity), windows)
        case .string: return assemble(HistogramKernel<String>(field: field, capacity: capacity), windows)
        case .bool: return assemble(HistogramKernel<Bool>(field: field, capacity: capacity), windows)
        case .vector: throw unsupported(operation, "a categorical field, not \(input.type)")
        }
    case (.approxDistinct, _):
        switch input.type {
        case .int: return assemble(ApproxDistinctKernel<Int64>(field: field), windows)
        case .float: return assemble(ApproxDistinctKernel<Double>(field: field), windows)
        case .string: return assemble(ApproxDistinctKernel<String>(field: field), windows)
        case .bool: return assemble(ApproxDistinctKernel<Bool>(field: field), windows)
        case .vector: throw unsupported(operation, "a categorical field, not \(input.type)")
        }
    default:
        throw unsupported(operation, "a numeric field, not \(input.type)")
    }
}

/// A windowed aggregator when there are windows, else a lifetime one, specialized for the kernel.
private func assemble<Kernel: AggregationKernel>(_ kernel: Kernel, _ windows: [Window]) -> SpecializedAggregator {
    if windows.isEmpty { return SpecializedAggregator(LifetimeAggregator(kernel: kernel)) }
    return SpecializedAggregator(WindowedAggregator(kernel: kernel, layout: TileLayout(windows: windows)))
}

/// The error for an operation given inputs it cannot take.
private func unsupported(_ operation: Operation, _ needs: String) -> AggregationError {
    AggregationError(.unsupportedAggregate, "\(operation.name) needs \(needs)")
}
