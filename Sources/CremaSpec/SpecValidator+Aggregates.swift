import CremaAggregation

/// What an aggregate's checks need from its group.
struct AggregateScope {
    /// The group's `from` event, or nil when it is unknown (field checks are then skipped).
    let event: EventSchema?
    /// The `from` event's name as written, part of each aggregate's id.
    let eventName: String
    /// The canonical text of the group's `where`, part of each aggregate's id.
    let groupFilter: String?
}

extension SpecValidator {
    /// Checks a group's aggregates; reports feature names and ids that collide.
    mutating func compileAggregates(_ entries: [SpecNode.Entry], scope: AggregateScope) -> [AggregateDefinition] {
        var aggregates: [AggregateDefinition] = []
        var featureOwners: [String: String] = [:]
        var namesByID: [UInt64: String] = [:]
        for entry in entries {
            guard checkName(entry, kind: "aggregate"), let aggregate = compileAggregate(entry, scope: scope) else { continue }
            var collides = false
            for feature in aggregate.featureNames {
                if let owner = featureOwners[feature] {
                    errors.append(entry.keyNode.error("feature name `\(feature)` of aggregate `\(aggregate.name)` is also a feature of aggregate `\(owner)` (features are named aggregate_window); rename one of them"))
                    collides = true
                }
            }
            if let other = namesByID[aggregate.id] {
                errors.append(entry.keyNode.error("aggregate `\(aggregate.name)` has the same id as `\(other)`; rename one of them"))
                collides = true
            }
            guard !collides else { continue }
            for feature in aggregate.featureNames { featureOwners[feature] = aggregate.name }
            namesByID[aggregate.id] = aggregate.name
            aggregates.append(aggregate)
        }
        return aggregates
    }

    /// One aggregate, or nil after reporting its problems.
    private mutating func compileAggregate(_ declaration: SpecNode.Entry, scope: AggregateScope) -> AggregateDefinition? {
        let name = declaration.key
        let context = "aggregate `\(name)`"
        let opList = NameSuggestion.list(AggregateRule.all.map(\.name))
        guard let entries = mappingEntries(declaration.value, describing: "\(context) (`op` and its options)") else { return nil }
        let errorCount = errors.count
        let options = knownEntries(entries, allowed: AggregateRule.allKeys, in: context)
        guard let opNode = options["op"] else {
            errors.append(declaration.keyNode.error("\(context) has no `op`; add one of \(opList)"))
            return nil
        }
        guard let opName = nameText(opNode, describing: "`op`") else { return nil }
        guard let rule = AggregateRule.named(opName) else {
            let suggestion = NameSuggestion.hint(for: opName, in: AggregateRule.all.map(\.name))
            errors.append(opNode.error("unknown op `\(opName)`\(suggestion) (ops: \(opList))"))
            return nil
        }
        checkApplicableKeys(entries, rule: rule)
        let fields = inputFields(options, rule: rule, declaration: declaration, event: scope.event)
        for required in rule.requiredOptions where options[required] == nil {
            errors.append(declaration.keyNode.error("\(rule.name) needs `\(required)`, like `\(required): \(Self.example(of: required))`"))
        }
        let operation = self.operation(rule: rule, options: options)
        let windows = rule.takesWindows ? self.windows(options) : []
        var filter: (predicate: Predicate, canonical: String)?
        if let whereNode = options["where"], let event = scope.event { filter = predicate(whereNode, event: event) }
        guard errors.count == errorCount, let operation, let fields else { return nil }

        let canonical = [
            "name=\(name)",
            "op=\(Self.canonical(operation))",
            "fields=" + fields.map { "\($0.field.name):\($0.field.type)" }.joined(separator: ","),
            "windows=" + windows.map { "\($0.name):\($0.length)/\($0.hop)" }.joined(separator: ","),
            "where=\(filter?.canonical ?? "")",
            "from=\(scope.eventName)",
            "group_where=\(scope.groupFilter ?? "")",
        ].joined(separator: ";")
        return AggregateDefinition(
            id: StableID.fnv1a64(canonical), name: name, operation: operation,
            fieldIndices: fields.map(\.index), fieldNames: fields.map(\.field.name), fieldTypes: fields.map(\.field.type),
            filter: filter?.predicate, windows: windows
        )
    }

    /// An example value of an option, for "needs X" messages.
    private static func example(of option: String) -> String {
        switch option {
        case "n": return "20"
        case "k": return "10"
        case "quantiles": return "[0.5, 0.99]"
        case "half_life": return "1h"
        default: return "…"
        }
    }

    /// Reports keys that exist but do not apply to the op (windows on last_n, `k` on sum).
    private mutating func checkApplicableKeys(_ entries: [SpecNode.Entry], rule: AggregateRule) {
        let accepted = rule.acceptedKeys
        for entry in entries where AggregateRule.allKeys.contains(entry.key) && !accepted.contains(entry.key) {
            if (entry.key == "windows" || entry.key == "hop") && !rule.takesWindows {
                errors.append(entry.keyNode.error("\(rule.name) takes no windows: it covers every accepted event; remove `\(entry.key)`"))
            } else if entry.key == "field" && rule.input == .fields {
                errors.append(entry.keyNode.error("sequence takes `fields` (a list), not `field`; write `fields: [\(entry.value.scalarText ?? "a"), …]`"))
            } else if entry.key == "fields" && rule.input == .field {
                errors.append(entry.keyNode.error("\(rule.name) takes one `field`, not `fields`; `fields` belongs to sequence"))
            } else {
                let owners = AggregateRule.all.filter { $0.acceptedKeys.contains(entry.key) }.map(\.name)
                errors.append(entry.keyNode.error("`\(entry.key)` does not apply to \(rule.name); it is an option of \(NameSuggestion.list(owners)): remove it"))
            }
        }
    }

    /// The op's input fields with their indices; nil after reporting a problem.
    /// Empty when the op takes no field or the event is unknown.
    private mutating func inputFields(
        _ options: [String: SpecNode], rule: AggregateRule, declaration: SpecNode.Entry, event: EventSchema?
    ) -> [(index: Int, field: EventField)]? {
        let nodes: [SpecNode]
        switch rule.input {
        case .none:
            return []
        case .optionalField, .field:
            guard let node = options["field"] else {
                if rule.input == .field {
                    errors.append(declaration.keyNode.error("\(rule.name) needs `field`: the event field it aggregates"))
                    return nil
                }
                return []
            }
            nodes = [node]
        case .fields:
            guard let node = options["fields"] else {
                errors.append(declaration.keyNode.error("sequence needs `fields`: the list of event fields each element keeps, like `fields: [video_id, watch_ms]`"))
                return nil
            }
            guard let items = node.items, !items.isEmpty else {
                errors.append(node.error("`fields` must be a non-empty list of field names, like `[video_id, watch_ms]`; got \(node.kindDescription)"))
                return nil
            }
            nodes = items
        }
        var result: [(index: Int, field: EventField)] = []
        var isValid = true
        for node in nodes {
            guard let name = nameText(node, describing: "a field") else { isValid = false; continue }
            guard let event else { continue }
            guard let index = event.fieldIndex(named: name) else {
                let names = event.fields.map(\.name)
                errors.append(node.error("unknown field `\(name)` in event `\(event.name)`\(NameSuggestion.hint(for: name, in: names)) (fields: \(NameSuggestion.list(names)))"))
                isValid = false
                continue
            }
            let field = event.fields[index]
            if result.contains(where: { $0.index == index }) {
                errors.append(node.error("field `\(name)` is listed twice; list each field once"))
                isValid = false
            } else if !rule.accepts(field.type) {
                errors.append(node.error("\(rule.name) takes \(rule.acceptedTypes), but `\(name)` is \(field.type); pick another field or op"))
                isValid = false
            }
            result.append((index, field))
        }
        return isValid ? result : nil
    }

    /// The operation with its options; nil after reporting a problem.
    private mutating func operation(rule: AggregateRule, options: [String: SpecNode]) -> Operation? {
        let accepted = rule.acceptedKeys
        func option(_ key: String) -> SpecNode? { accepted.contains(key) ? options[key] : nil }
        switch rule.name {
        case "count": return .count
        case "sum": return .sum
        case "min": return .min
        case "max": return .max
        case "mean": return .mean
        case "variance": return .variance
        case "first": return .first
        case "last": return .last
        case "approx_distinct": return .approxDistinct
        case "last_n":
            let n = option("n").flatMap { positiveInteger($0, key: "n") }
            var distinct = false
            if let node = option("distinct") {
                guard let flag = node.boolean else {
                    errors.append(node.error("`distinct` is true or false; got \(node.kindDescription)"))
                    return nil
                }
                distinct = flag
            }
            return n.map { .lastN(n: $0, distinct: distinct) }
        case "sequence":
            return option("n").flatMap { positiveInteger($0, key: "n") }.map { .sequence(n: $0) }
        case "top_k":
            let k = option("k").flatMap { positiveInteger($0, key: "k") }
            let capacity = option("capacity").map { positiveInteger($0, key: "capacity") } ?? Operation.defaultCapacity
            guard let k, let capacity else { return nil }
            return .topK(k: k, capacity: capacity)
        case "histogram":
            let capacity = option("capacity").map { positiveInteger($0, key: "capacity") } ?? Operation.defaultCapacity
            return capacity.map { .histogram(capacity: $0) }
        case "approx_quantile":
            return option("quantiles").flatMap { quantiles($0) }.map { .approxQuantile(quantiles: $0) }
        case "decayed_count":
            return option("half_life").flatMap { duration($0) }.map { .decayedCount(halfLife: $0) }
        default:
            return option("half_life").flatMap { duration($0) }.map { .decayedSum(halfLife: $0) }
        }
    }

    /// A positive integer option, or nil after reporting it.
    private mutating func positiveInteger(_ node: SpecNode, key: String) -> Int? {
        guard let value = node.integer else {
            errors.append(node.error("`\(key)` must be a positive integer, like `\(key): \(Self.example(of: key) == "…" ? "1000" : Self.example(of: key))`; got \(node.kindDescription)"))
            return nil
        }
        guard value > 0 else {
            errors.append(node.error("`\(key)` must be positive; got \(value)"))
            return nil
        }
        return value
    }

    /// The `quantiles` list, each strictly between 0 and 1; nil after reporting a problem.
    private mutating func quantiles(_ node: SpecNode) -> [Double]? {
        guard let items = node.items else {
            errors.append(node.error("`quantiles` is a list of fractions, like `[0.5, 0.99]`; got \(node.kindDescription)"))
            return nil
        }
        guard !items.isEmpty else {
            errors.append(node.error("`quantiles` is empty; list at least one fraction, like `[0.5, 0.99]`"))
            return nil
        }
        var values: [Double] = []
        for item in items {
            guard let value = item.number else {
                errors.append(item.error("a quantile is a number between 0 and 1, like 0.99; got \(item.kindDescription)"))
                continue
            }
            guard value > 0, value < 1 else {
                errors.append(item.error("quantile \(item.scalarText ?? "") is outside (0, 1); write fractions, like 0.5 for the median or 0.99"))
                continue
            }
            values.append(value)
        }
        return values.count == items.count ? values : nil
    }

    /// The aggregate's windows with its `hop`; reports bad durations, duplicates and an explicit
    /// hop that does not divide a window. Empty (lifetime) when `windows` is absent.
    private mutating func windows(_ options: [String: SpecNode]) -> [Window] {
        let hop = options["hop"].flatMap { duration($0) }
        guard let node = options["windows"] else {
            if let hopNode = options["hop"] {
                errors.append(hopNode.error("`hop` needs `windows`; a lifetime aggregate has no tiles: remove `hop` or add `windows`"))
            }
            return []
        }
        guard let items = node.items else {
            errors.append(node.error("`windows` is a list of durations, like `[1h, 1d, 7d]`; got \(node.kindDescription)"))
            return []
        }
        guard !items.isEmpty else {
            errors.append(node.error("`windows` is empty; list at least one duration, or remove `windows` for a lifetime feature"))
            return []
        }
        var windows: [Window] = []
        for item in items {
            guard let length = duration(item), let text = item.scalarText else { continue }
            if let same = windows.first(where: { $0.length == length }) {
                errors.append(item.error("window `\(text)` repeats `\(same.name)`; list each window once"))
                continue
            }
            let window = Window(length: length, hop: hop, name: text)
            // DESIGN.md: an explicit `hop` must divide each window; Chronon's default hop need not
            // (a `7m` window reads from floor((t − 7m) / 5m) on, as the contract's formula says).
            if hop != nil && length % window.hop != 0 {
                let divisor = SpecDuration.format(Self.greatestCommonDivisor(length, window.hop))
                errors.append(item.error("window `\(text)` is not a multiple of the hop `\(SpecDuration.format(window.hop))`; pick a hop that divides every window, like `\(divisor)`"))
                continue
            }
            windows.append(window)
        }
        return windows
    }

    /// The greatest common divisor of two positive numbers.
    private static func greatestCommonDivisor(_ left: Int64, _ right: Int64) -> Int64 {
        var (a, b) = (left, right)
        while b != 0 { (a, b) = (b, a % b) }
        return a
    }

    /// The operation and its options as stable text, part of the aggregate id.
    private static func canonical(_ operation: Operation) -> String {
        switch operation {
        case .lastN(let n, let distinct): return "last_n(n:\(n),distinct:\(distinct))"
        case .sequence(let n): return "sequence(n:\(n))"
        case .topK(let k, let capacity): return "top_k(k:\(k),capacity:\(capacity))"
        case .histogram(let capacity): return "histogram(capacity:\(capacity))"
        case .approxQuantile(let quantiles): return "approx_quantile(\(quantiles.map { "\($0)" }.joined(separator: ",")))"
        case .decayedCount(let halfLife): return "decayed_count(half_life:\(halfLife))"
        case .decayedSum(let halfLife): return "decayed_sum(half_life:\(halfLife))"
        default: return operation.name
        }
    }
}
