/// One value of an entity key: entities are keyed by one or more strings or integers
/// (a cohort such as `[country, category]` has several).
public enum EntityKeyPart: Hashable, Sendable {
    /// An integer key value.
    case int(Int64)
    /// A string key value.
    case string(String)
}
