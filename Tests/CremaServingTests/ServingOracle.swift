import CremaAggregation
import Foundation

/// A small seeded generator (SplitMix64) so every random stream replays the same events.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    /// Creates a generator from a seed.
    init(seed: UInt64) { state = seed }

    /// The next 64 random bits.
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// One `view` event of `OracleSpec`, as generated and as sent.
struct OracleEvent: Sendable {
    var user: String
    var video: String
    var country: String
    var category: String
    var account: Int64
    var watch: Int64
    var score: Double
    var liked: Bool
    /// Optional; nil is sent as an explicit null or left out.
    var rating: Int64?
    var ts: Int64
    /// Whether a nil rating is sent as `"rating": null` rather than left out.
    var sendsNullRating = false

    /// The NDJSON line (no newline).
    var line: String {
        let rating = rating.map { ", \"rating\": \($0)" } ?? (sendsNullRating ? ", \"rating\": null" : "")
        return "{\"type\": \"view\", \"ts\": \(ts), \"user_id\": \"\(user)\", \"video_id\": \"\(video)\", \"country\": \"\(country)\", "
            + "\"category\": \"\(category)\", \"account_id\": \(account), \"watch_ms\": \(watch), \"score\": \(score), \"liked\": \(liked)\(rating)}"
    }

    /// A field's value by its spec name; null for a missing rating.
    func field(_ name: String) -> FeatureValue {
        switch name {
        case "user_id": return .string(user)
        case "video_id": return .string(video)
        case "country": return .string(country)
        case "category": return .string(category)
        case "account_id": return .int(account)
        case "watch_ms": return .int(watch)
        case "score": return .float(score)
        case "liked": return .bool(liked)
        case "rating": return rating.map { .int($0) } ?? .null
        default: fatalError("no field \(name)")
        }
    }
}

/// The spec the oracle tests serve, and the same spec as a table the oracle evaluates.
enum OracleSpec {
    static let yaml = """
        events:
          view:
            time: ts
            fields: { user_id: string, video_id: string, country: string, category: string, account_id: int,
                      watch_ms: int, score: float, liked: bool, rating: int? }
        entities:
          user: { key: user_id }
          video: { key: video_id }
          account: { key: account_id }
          cohort: { key: [country, category] }
        features:
          video_stats:
            entity: video
            from: view
            aggregates:
              views: { op: count, windows: [1h, 3h, 1d] }
              watch: { op: sum, field: watch_ms, windows: [1d, 2d] }
              score: { op: sum, field: score, windows: [1d] }
              mean_watch: { op: mean, field: watch_ms, windows: [90m, 1d] }
              min_watch: { op: min, field: watch_ms, windows: [1h, 1d] }
              max_score: { op: max, field: score, windows: [1d] }
              first_user: { op: first, field: user_id, windows: [1d] }
              last_user: { op: last, field: user_id, windows: [1h, 1d] }
              rated: { op: count, field: rating, windows: [1d] }
              countries: { op: top_k, field: country, k: 2, windows: [1d] }
              categories: { op: histogram, field: category, windows: [1d] }
              likes: { op: count, where: liked, windows: [1d] }
              half_hourly: { op: count, windows: [2h], hop: 30m }
              total: { op: count }
              watch_total: { op: sum, field: watch_ms }
              last_liked: { op: last, field: liked }
              trending: { op: decayed_count, half_life: 1h }
          video_recent:
            entity: video
            from: view
            aggregates:
              views: { op: count, windows: [1h] }
              watch: { op: sum, field: watch_ms, windows: [1d] }
          user_history:
            entity: user
            from: view
            aggregates:
              recent_videos: { op: last_n, field: video_id, n: 5 }
              distinct_videos: { op: last_n, field: video_id, n: 3, distinct: true }
              recent_views: { op: sequence, fields: [video_id, rating], n: 3 }
              first_video: { op: first, field: video_id }
              max_watch: { op: max, field: watch_ms }
              views: { op: count, windows: [1d] }
          cohort_stats:
            entity: cohort
            from: view
            aggregates:
              views: { op: count, windows: [1h, 1d] }
              watch: { op: sum, field: watch_ms, windows: [1d] }
              total: { op: count }
          account_stats:
            entity: account
            from: view
            where: watch_ms >= 100
            aggregates:
              total_watch: { op: sum, field: watch_ms }
              views: { op: count, windows: [1d] }
              min_rating: { op: min, field: rating, windows: [1d] }
              mean_score: { op: mean, field: score }
        """

    static let minute: Int64 = 60_000
    static let hour: Int64 = 3_600_000
    static let day: Int64 = 86_400_000

    /// `OracleSpec.yaml` as the oracle reads it.
    static let groups: [OracleGroup] = [
        OracleGroup(name: "video_stats", entity: "video", keyFields: ["video_id"], filter: nil, aggregates: [
            OracleAggregate("views", .count, windows: ["1h": hour, "3h": 3 * hour, "1d": day]),
            OracleAggregate("watch", .sum, field: "watch_ms", windows: ["1d": day, "2d": 2 * day]),
            OracleAggregate("score", .sum, field: "score", windows: ["1d": day]),
            OracleAggregate("mean_watch", .mean, field: "watch_ms", windows: ["90m": 90 * minute, "1d": day]),
            OracleAggregate("min_watch", .min, field: "watch_ms", windows: ["1h": hour, "1d": day]),
            OracleAggregate("max_score", .max, field: "score", windows: ["1d": day]),
            OracleAggregate("first_user", .first, field: "user_id", windows: ["1d": day]),
            OracleAggregate("last_user", .last, field: "user_id", windows: ["1h": hour, "1d": day]),
            OracleAggregate("rated", .count, field: "rating", windows: ["1d": day]),
            OracleAggregate("countries", .topK(2), field: "country", windows: ["1d": day]),
            OracleAggregate("categories", .histogram, field: "category", windows: ["1d": day]),
            OracleAggregate("likes", .count, windows: ["1d": day], filter: { $0.liked }),
            OracleAggregate("half_hourly", .count, windows: ["2h": 2 * hour], hop: 30 * minute),
            OracleAggregate("total", .count),
            OracleAggregate("watch_total", .sum, field: "watch_ms"),
            OracleAggregate("last_liked", .last, field: "liked"),
            OracleAggregate("trending", .decayedCount(halfLife: hour)),
        ]),
        OracleGroup(name: "user_history", entity: "user", keyFields: ["user_id"], filter: nil, aggregates: [
            OracleAggregate("recent_videos", .lastN(5, distinct: false), field: "video_id"),
            OracleAggregate("distinct_videos", .lastN(3, distinct: true), field: "video_id"),
            OracleAggregate("recent_views", .sequence(["video_id", "rating"], 3)),
            OracleAggregate("first_video", .first, field: "video_id"),
            OracleAggregate("max_watch", .max, field: "watch_ms"),
            OracleAggregate("views", .count, windows: ["1d": day]),
        ]),
        OracleGroup(name: "video_recent", entity: "video", keyFields: ["video_id"], filter: nil, aggregates: [
            OracleAggregate("views", .count, windows: ["1h": hour]),
            OracleAggregate("watch", .sum, field: "watch_ms", windows: ["1d": day]),
        ]),
        OracleGroup(name: "cohort_stats", entity: "cohort", keyFields: ["country", "category"], filter: nil, aggregates: [
            OracleAggregate("views", .count, windows: ["1h": hour, "1d": day]),
            OracleAggregate("watch", .sum, field: "watch_ms", windows: ["1d": day]),
            OracleAggregate("total", .count),
        ]),
        OracleGroup(name: "account_stats", entity: "account", keyFields: ["account_id"], filter: { $0.watch >= 100 }, aggregates: [
            OracleAggregate("total_watch", .sum, field: "watch_ms"),
            OracleAggregate("views", .count, windows: ["1d": day]),
            OracleAggregate("min_rating", .min, field: "rating", windows: ["1d": day]),
            OracleAggregate("mean_score", .mean, field: "score"),
        ]),
    ]

    /// The feature names of `entity`, in spec order.
    static func features(of entity: String) -> [String] {
        groups.filter { $0.entity == entity }.flatMap { group in
            group.aggregates.flatMap { aggregate in
                aggregate.windows.isEmpty ? ["\(group.name).\(aggregate.name)"] : aggregate.windows.map { "\(group.name).\(aggregate.name)_\($0.name)" }
            }
        }
    }

    /// Whether `feature` is a histogram (its gRPC column is a list of key/count entries).
    static func isHistogram(_ feature: String) -> Bool {
        feature.hasPrefix("video_stats.categories_")
    }
}

/// One feature group of `OracleSpec`.
struct OracleGroup: Sendable {
    var name: String
    var entity: String
    var keyFields: [String]
    var filter: (@Sendable (OracleEvent) -> Bool)?
    var aggregates: [OracleAggregate]

    /// The group's key of `event`, each part as text (ints in decimal).
    func key(of event: OracleEvent) -> [String] {
        keyFields.map { field in
            switch event.field(field) {
            case .int(let number): return String(number)
            case .string(let text): return text
            default: fatalError("key field \(field)")
            }
        }
    }
}

/// One aggregate of `OracleSpec`.
struct OracleAggregate: Sendable {
    /// The operations the oracle computes.
    enum Operation: Sendable {
        case count, sum, mean, min, max, first, last, histogram
        case lastN(Int, distinct: Bool)
        case sequence([String], Int)
        case topK(Int)
        case decayedCount(halfLife: Int64)
    }

    /// One window: its name in feature names, length and hop.
    struct Window: Sendable {
        var name: String
        var length: Int64
        var hop: Int64
    }

    var name: String
    var operation: Operation
    var field: String?
    /// Empty for a lifetime aggregate.
    var windows: [Window]
    var filter: (@Sendable (OracleEvent) -> Bool)?

    init(
        _ name: String, _ operation: Operation, field: String? = nil, windows: KeyValuePairs<String, Int64> = [:], hop: Int64? = nil,
        filter: (@Sendable (OracleEvent) -> Bool)? = nil
    ) {
        self.name = name
        self.operation = operation
        self.field = field
        self.windows = windows.map { Window(name: $0.key, length: $0.value, hop: hop ?? CremaAggregation.Window.defaultHop(forLength: $0.value)) }
        self.filter = filter
    }

    /// Whether the aggregate takes `event` at all: its filter passes and its field is not null
    /// (a sequence keeps events whose fields are null).
    func takes(_ event: OracleEvent) -> Bool {
        if let filter, !filter(event) { return false }
        if case .sequence = operation { return true }
        guard let field else { return true }
        return event.field(field) != .null
    }

    /// Whether `window`'s tile of `time` is still kept at server time `now`: the longest
    /// window with the same hop still reads it at `now` (DESIGN.md, "Windows: the contract").
    func isRetained(_ time: Int64, for window: Window, now: Int64) -> Bool {
        let longest = windows.filter { $0.hop == window.hop }.map(\.length).max()!
        return time >= floorDivide(now - longest, window.hop) * window.hop
    }
}

/// An accepted event and its arrival order.
struct ArrivedEvent {
    var event: OracleEvent
    var arrival: Int
}

/// The brute-force reference: every accepted event, and each feature's value computed straight
/// from DESIGN.md's window contract and value table, with no tiles and no partial states.
struct ServingOracle {
    /// The fixed server clock.
    let now: Int64
    /// The longest a future event may be ahead of the clock (the engine's default).
    let maxFuture: Int64 = 60_000
    /// Accepted events of each group and entity key.
    private var rows: [String: [[String]: [ArrivedEvent]]] = [:]
    /// Events accepted, rejected (too far ahead) and late (too old for every window they feed).
    private(set) var accepted = 0
    private(set) var rejected = 0
    private(set) var late = 0

    /// Applies `events` in order, as the engine would.
    init(now: Int64, events: [OracleEvent]) {
        self.now = now
        for event in events {
            guard event.ts <= now + maxFuture else {
                rejected += 1
                continue
            }
            let arrived = ArrivedEvent(event: event, arrival: accepted)
            accepted += 1
            var isKept = false
            var isFed = false
            for group in OracleSpec.groups where group.filter?(event) ?? true {
                rows[group.name, default: [:]][group.key(of: event), default: []].append(arrived)
                for aggregate in group.aggregates where !aggregate.windows.isEmpty && aggregate.takes(event) {
                    isFed = true
                    isKept = isKept || aggregate.windows.contains { aggregate.isRetained(event.ts, for: $0, now: now) }
                }
            }
            if isFed && !isKept { late += 1 }
        }
    }

    /// The value of `feature` (`group.aggregate` or `group.aggregate_window`) for the entity
    /// with key `key` (parts as text), read at `time`.
    func value(_ feature: String, key: [String], at time: Int64) -> FeatureValue {
        let (group, aggregate, window) = Self.locate(feature)
        guard let events = rows[group.name]?[key], !Self.isExpired(group, events, at: time) else { return .null }
        let taken = events.filter { aggregate.takes($0.event) }
        guard let window else { return Self.compute(aggregate, taken, at: time) }
        let covered = taken.filter { arrived in
            let ts = arrived.event.ts
            return floorDivide(time - window.length, window.hop) * window.hop <= ts
                && ts < (floorDivide(time, window.hop) + 1) * window.hop
                && aggregate.isRetained(ts, for: window, now: now)
        }
        return Self.compute(aggregate, covered, at: time)
    }

    /// Whether the row of `events` in `group` is expired at `time` (DESIGN.md, "Storage"): every
    /// aggregate has windows and the newest event is before the first tile of each.
    private static func isExpired(_ group: OracleGroup, _ events: [ArrivedEvent], at time: Int64) -> Bool {
        guard group.aggregates.allSatisfy({ !$0.windows.isEmpty }), let newest = events.map(\.event.ts).max() else { return false }
        return group.aggregates.allSatisfy { aggregate in
            aggregate.windows.allSatisfy { floorDivide(newest, $0.hop) < floorDivide(time - $0.length, $0.hop) }
        }
    }

    /// The group, aggregate and window a feature name denotes.
    private static func locate(_ feature: String) -> (OracleGroup, OracleAggregate, OracleAggregate.Window?) {
        for group in OracleSpec.groups where feature.hasPrefix(group.name + ".") {
            let rest = feature.dropFirst(group.name.count + 1)
            for aggregate in group.aggregates {
                if aggregate.windows.isEmpty, rest == aggregate.name { return (group, aggregate, nil) }
                if let window = aggregate.windows.first(where: { rest == "\(aggregate.name)_\($0.name)" }) { return (group, aggregate, window) }
            }
        }
        fatalError("no feature \(feature)")
    }

    /// The operation over `events`, straight from DESIGN.md's table of values.
    private static func compute(_ aggregate: OracleAggregate, _ events: [ArrivedEvent], at time: Int64) -> FeatureValue {
        let values = aggregate.field.map { field in events.map { $0.event.field(field) } } ?? []
        let newestFirst = events.sorted { ($0.event.ts, $0.arrival) > ($1.event.ts, $1.arrival) }
        switch aggregate.operation {
        case .count:
            return .int(Int64(events.count))
        case .sum:
            if aggregate.field == "score" { return .float(values.reduce(0) { $0 + number($1) }) }
            return .int(values.reduce(Int64(0)) { sum, value in
                guard case .int(let number) = value else { return sum }
                return sum + number
            })
        case .mean:
            return values.isEmpty ? .null : .float(values.reduce(0) { $0 + number($1) } / Double(values.count))
        case .min:
            return values.min(by: precedes) ?? .null
        case .max:
            return values.max(by: precedes) ?? .null
        case .first:
            return newestFirst.last.map { $0.event.field(aggregate.field!) } ?? .null
        case .last:
            return newestFirst.first.map { $0.event.field(aggregate.field!) } ?? .null
        case .lastN(let n, let distinct):
            var kept: [FeatureValue] = []
            for arrived in newestFirst where kept.count < n {
                let value = arrived.event.field(aggregate.field!)
                if distinct && kept.contains(value) { continue }
                kept.append(value)
            }
            return .list(kept)
        case .sequence(let fields, let n):
            return .list(newestFirst.prefix(n).map { arrived in
                .object(fields.map { FeatureValue.Member($0, arrived.event.field($0)) } + [FeatureValue.Member("ts", .int(arrived.event.ts))])
            })
        case .topK(let k):
            return .list(counts(of: values)
                .sorted { $0.count != $1.count ? $0.count > $1.count : precedes($0.value, $1.value) }
                .prefix(k)
                .map { .object([FeatureValue.Member("value", $0.value), FeatureValue.Member("count", .int($0.count))]) })
        case .histogram:
            return .object(counts(of: values).sorted { precedes($0.value, $1.value) }.map { entry in
                guard case .string(let key) = entry.value else { fatalError("histograms here are of strings") }
                return FeatureValue.Member(key, .int(entry.count))
            })
        case .decayedCount(let halfLife):
            return .float(events.reduce(0) { $0 + exp2(-Double(time - $1.event.ts) / Double(halfLife)) })
        }
    }

    private static func number(_ value: FeatureValue) -> Double {
        switch value {
        case .int(let number): return Double(number)
        case .float(let number): return number
        default: fatalError("not a number: \(value)")
        }
    }

    /// Exact counts per value, in first-seen order.
    private static func counts(of values: [FeatureValue]) -> [(value: FeatureValue, count: Int64)] {
        var counts: [(value: FeatureValue, count: Int64)] = []
        for value in values {
            if let index = counts.firstIndex(where: { $0.value == value }) {
                counts[index].count += 1
            } else {
                counts.append((value, 1))
            }
        }
        return counts
    }

    /// Numbers numerically, strings by UTF-8 bytes, false before true.
    private static func precedes(_ lhs: FeatureValue, _ rhs: FeatureValue) -> Bool {
        switch (lhs, rhs) {
        case (.int(let a), .int(let b)): return a < b
        case (.float(let a), .float(let b)): return a < b
        case (.string(let a), .string(let b)): return Array(a.utf8).lexicographicallyPrecedes(Array(b.utf8))
        case (.bool(let a), .bool(let b)): return !a && b
        default: return false
        }
    }
}

/// Comparing what a server answered with what the oracle says.
enum OracleMatch {
    /// Whether `actual` equals `expected`: floats within a relative 1e-9 (decayed values 1e-6),
    /// object members in any order, lists in order.
    static func matches(_ expected: FeatureValue, _ actual: FeatureValue, tolerance: Double = 1e-9) -> Bool {
        switch (expected, actual) {
        case (.float(let a), .float(let b)):
            return a == b || abs(a - b) <= tolerance * max(abs(a), abs(b))
        case (.list(let a), .list(let b)):
            return a.count == b.count && zip(a, b).allSatisfy { matches($0, $1, tolerance: tolerance) }
        case (.object(let a), .object(let b)):
            return a.count == b.count && a.allSatisfy { member in
                b.first { $0.key == member.key }.map { matches(member.value, $0.value, tolerance: tolerance) } ?? false
            }
        default:
            return expected == actual
        }
    }

    /// Whether the parsed JSON `json` (from `JSONSerialization`) is `expected` as DESIGN.md
    /// writes it: null, numbers, strings, bools, lists, and objects (histograms, top_k
    /// entries, sequence elements).
    static func matches(_ expected: FeatureValue, json: Any, tolerance: Double = 1e-9) -> Bool {
        switch expected {
        case .null:
            return json is NSNull
        case .int(let number):
            guard let parsed = json as? NSNumber else { return false }
            return parsed.int64Value == number && parsed.doubleValue == Double(number)
        case .float(let number):
            guard let parsed = json as? NSNumber else { return false }
            return matches(.float(number), .float(parsed.doubleValue), tolerance: tolerance)
        case .string(let text):
            return json as? String == text
        case .bool(let flag):
            return (json as? Bool) == flag
        case .vector(let floats):
            return matches(.list(floats.map { .float(Double($0)) }), json: json, tolerance: 1e-6)
        case .list(let items):
            guard let array = json as? [Any], array.count == items.count else { return false }
            return zip(items, array).allSatisfy { matches($0, json: $1, tolerance: tolerance) }
        case .object(let members):
            guard let object = json as? [String: Any], object.count == members.count else { return false }
            return members.allSatisfy { member in object[member.key].map { matches(member.value, json: $0, tolerance: tolerance) } ?? false }
        }
    }

    /// The tolerance for `feature`'s floats: decayed values are rescaled over many half-lives.
    static func tolerance(of feature: String) -> Double {
        feature.hasSuffix(".trending") ? 1e-6 : 1e-9
    }
}
