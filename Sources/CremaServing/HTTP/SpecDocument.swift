import CremaAggregation
import CremaSpec

/// `GET /v1/specs`: the compiled spec as JSON.
///
/// ```
/// {"events": [{"name", "time", "fields": [{"name", "type", "optional"}]}],
///  "entities": [{"name", "key": [...]}],
///  "groups": [{"name", "id", "entity", "event", "features":
///     [{"name", "aggregate", "op", "fields", "window", "window_ms", "hop", "hop_ms"}]}]}
/// ```
/// A feature's `name` is its full read name (`video_stats.views_1d`); `window` is as written
/// in the spec; `hop` is written in the largest unit that divides it (`1h`, `5m`). Lifetime
/// features have `window`, `hop` and their `_ms` forms null. `time` is null for events
/// stamped on arrival.
enum SpecDocument {
    /// Writes `spec` as JSON.
    /// - Complexity: O(size of the spec).
    static func write(_ spec: CompiledSpec) -> JSONWriter {
        var writer = JSONWriter(capacity: 4096)
        writer.raw("{")
        writer.key("events", isFirst: true)
        writer.raw("[")
        for (index, event) in spec.events.enumerated() {
            writer.separator(isFirst: index == 0)
            writer.raw("{")
            writer.key("name", isFirst: true)
            writer.string(event.name)
            writer.key("time", isFirst: false)
            if let time = event.timeField { writer.string(time) } else { writer.raw("null") }
            writer.key("fields", isFirst: false)
            writer.raw("[")
            for (fieldIndex, field) in event.fields.enumerated() {
                writer.separator(isFirst: fieldIndex == 0)
                writer.raw("{")
                writer.key("name", isFirst: true)
                writer.string(field.name)
                writer.key("type", isFirst: false)
                writer.string(field.type.description)
                writer.key("optional", isFirst: false)
                writer.bool(field.isOptional)
                writer.raw("}")
            }
            writer.raw("]}")
        }
        writer.raw("]")
        writer.key("entities", isFirst: false)
        writer.raw("[")
        for (index, entity) in spec.entities.enumerated() {
            writer.separator(isFirst: index == 0)
            writer.raw("{")
            writer.key("name", isFirst: true)
            writer.string(entity.name)
            writer.key("key", isFirst: false)
            writeStrings(entity.keyFields, into: &writer)
            writer.raw("}")
        }
        writer.raw("]")
        writer.key("groups", isFirst: false)
        writer.raw("[")
        for (index, group) in spec.groups.enumerated() {
            writer.separator(isFirst: index == 0)
            writeGroup(group, into: &writer)
        }
        writer.raw("]}")
        return writer
    }

    private static func writeGroup(_ group: FeatureGroup, into writer: inout JSONWriter) {
        writer.raw("{")
        writer.key("name", isFirst: true)
        writer.string(group.name)
        writer.key("id", isFirst: false)
        writer.int(Int64(group.id))
        writer.key("entity", isFirst: false)
        writer.string(group.entity)
        writer.key("event", isFirst: false)
        writer.string(group.event)
        writer.key("features", isFirst: false)
        writer.raw("[")
        var isFirst = true
        for aggregate in group.aggregates {
            let windows: [Window?] = aggregate.windows.isEmpty ? [nil] : aggregate.windows
            for (window, name) in zip(windows, aggregate.featureNames) {
                writer.separator(isFirst: isFirst)
                isFirst = false
                writer.raw("{")
                writer.key("name", isFirst: true)
                writer.string("\(group.name).\(name)")
                writer.key("aggregate", isFirst: false)
                writer.string(aggregate.name)
                writer.key("op", isFirst: false)
                writer.string(aggregate.operation.name)
                writer.key("fields", isFirst: false)
                writeStrings(aggregate.fieldNames, into: &writer)
                writer.key("window", isFirst: false)
                if let window { writer.string(window.name) } else { writer.raw("null") }
                writer.key("window_ms", isFirst: false)
                if let window { writer.int(window.length) } else { writer.raw("null") }
                writer.key("hop", isFirst: false)
                if let window { writer.string(durationText(window.hop)) } else { writer.raw("null") }
                writer.key("hop_ms", isFirst: false)
                if let window { writer.int(window.hop) } else { writer.raw("null") }
                writer.raw("}")
            }
        }
        writer.raw("]}")
    }

    private static func writeStrings(_ strings: [String], into writer: inout JSONWriter) {
        writer.raw("[")
        for (index, string) in strings.enumerated() {
            writer.separator(isFirst: index == 0)
            writer.string(string)
        }
        writer.raw("]")
    }

    /// A duration in ms written with the largest spec unit that divides it (`1d`, `5m`),
    /// or in ms when none does.
    static func durationText(_ milliseconds: Int64) -> String {
        let units: [(Int64, String)] = [
            (Milliseconds.week, "w"), (Milliseconds.day, "d"), (Milliseconds.hour, "h"), (Milliseconds.minute, "m"), (Milliseconds.second, "s"),
        ]
        for (unit, suffix) in units where milliseconds >= unit && milliseconds % unit == 0 {
            return "\(milliseconds / unit)\(suffix)"
        }
        return "\(milliseconds)ms"
    }
}
