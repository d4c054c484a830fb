import CremaAggregation

/// A validated, immutable spec: what the engine applies events through and serving reads.
///
/// Built by `SpecCompiler` from spec files; never built from a spec that has errors.
public struct CompiledSpec: Sendable {
    /// Event types by name, in spec order.
    public let events: [EventSchema]
    /// Entities by name, in spec order.
    public let entities: [EntityDefinition]
    /// Feature groups, in spec order.
    public let groups: [FeatureGroup]

    /// Creates a compiled spec from already validated parts.
    public init(events: [EventSchema], entities: [EntityDefinition], groups: [FeatureGroup]) {
        self.events = events
        self.entities = entities
        self.groups = groups
    }
}

/// One event type: its fields, their types and where its time comes from.
public struct EventSchema: Sendable, Hashable {
    /// The event type, matched against each event's `type`.
    public let name: String
    /// The fields, in spec order; a field's index is its position here.
    public let fields: [EventField]
    /// The JSON key holding the event time (epoch ms or RFC 3339), or nil when events are
    /// stamped with their arrival time.
    public let timeField: String?

    /// Creates an event schema.
    public init(name: String, fields: [EventField], timeField: String?) {
        self.name = name
        self.fields = fields
        self.timeField = timeField
    }

    /// The index of the field named `name`.
    public func fieldIndex(named name: String) -> Int? { fields.firstIndex { $0.name == name } }
}

/// One declared event field.
public struct EventField: Sendable, Hashable {
    /// The field name as it appears in event JSON.
    public let name: String
    /// The declared type.
    public let type: FieldType
    /// Whether the field may be missing or null (declared with a trailing `?`).
    public let isOptional: Bool

    /// Creates an event field.
    public init(name: String, type: FieldType, isOptional: Bool) {
        self.name = name
        self.type = type
        self.isOptional = isOptional
    }
}

/// An entity: what a feature group keys its rows by. Several key fields make a cohort.
public struct EntityDefinition: Sendable, Hashable {
    /// The entity name (`user`, `country_category`).
    public let name: String
    /// The key field names, in order; more than one for a composite (cohort) key.
    public let keyFields: [String]

    /// Creates an entity.
    public init(name: String, keyFields: [String]) {
        self.name = name
        self.keyFields = keyFields
    }

    /// Whether the key is composite (a cohort id, read as a JSON array).
    public var isComposite: Bool { keyFields.count > 1 }
}

/// A feature group: one stored row per entity, fed by one event type.
public struct FeatureGroup: Sendable, Hashable {
    /// A stable id: derived from the name and entity, unchanged by edits elsewhere in the spec.
    public let id: UInt32
    /// The group name (`video_stats`).
    public let name: String
    /// The entity the rows are keyed by.
    public let entity: String
    /// The event type that feeds the group.
    public let event: String
    /// For each key field of the entity, its index in the event's fields.
    public let keyFieldIndices: [Int]
    /// The group-level filter, or nil.
    public let filter: Predicate?
    /// Rows whose newest event is older than this (ms) are removed, or nil.
    public let ttl: Int64?
    /// The aggregates, in spec order.
    public let aggregates: [AggregateDefinition]

    /// Creates a feature group.
    public init(
        id: UInt32, name: String, entity: String, event: String, keyFieldIndices: [Int],
        filter: Predicate?, ttl: Int64?, aggregates: [AggregateDefinition]
    ) {
        self.id = id
        self.name = name
        self.entity = entity
        self.event = event
        self.keyFieldIndices = keyFieldIndices
        self.filter = filter
        self.ttl = ttl
        self.aggregates = aggregates
    }
}

/// One aggregate of a group: an operation over a field, with its windows.
public struct AggregateDefinition: Sendable, Hashable {
    /// A stable id: a hash of the aggregate's full definition, so a changed aggregate is a new one.
    public let id: UInt64
    /// The aggregate name (`views`).
    public let name: String
    /// The operation with its options.
    public let operation: Operation
    /// The input fields' indices in the event (empty for a count of events, several for sequence).
    public let fieldIndices: [Int]
    /// The input fields' names, parallel to `fieldIndices`.
    public let fieldNames: [String]
    /// The input fields' types, parallel to `fieldIndices`.
    public let fieldTypes: [FieldType]
    /// The aggregate-level filter, or nil.
    public let filter: Predicate?
    /// The windows, in spec order; empty for a lifetime aggregate.
    public let windows: [Window]

    /// Creates an aggregate definition.
    public init(
        id: UInt64, name: String, operation: Operation, fieldIndices: [Int], fieldNames: [String],
        fieldTypes: [FieldType], filter: Predicate?, windows: [Window]
    ) {
        self.id = id
        self.name = name
        self.operation = operation
        self.fieldIndices = fieldIndices
        self.fieldNames = fieldNames
        self.fieldTypes = fieldTypes
        self.filter = filter
        self.windows = windows
    }

    /// The feature names this aggregate serves, without the group prefix:
    /// `views_1d` for each window, or `views` for a lifetime aggregate.
    public var featureNames: [String] {
        windows.isEmpty ? [name] : windows.map { "\(name)_\($0.name)" }
    }
}
