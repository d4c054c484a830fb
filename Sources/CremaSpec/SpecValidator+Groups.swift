import CremaAggregation

extension SpecValidator {
    /// The keys a feature group may have.
    static let groupKeys = ["entity", "from", "where", "ttl", "aggregates"]

    /// Checks feature groups against the compiled events and entities.
    ///
    /// `declaredNames` holds every declared event and entity name, so a group that refers to
    /// one that failed validation is not reported a second time as unknown.
    mutating func compileGroups(
        _ declarations: [SpecNode.Entry], events: [EventSchema], entities: [EntityDefinition], declaredNames: Set<String>
    ) -> [FeatureGroup] {
        var groups: [FeatureGroup] = []
        var groupNamesByID: [UInt32: String] = [:]
        for declaration in declarations {
            guard let group = compileGroup(declaration, events: events, entities: entities, declaredNames: declaredNames) else { continue }
            if let other = groupNamesByID[group.id] {
                errors.append(declaration.keyNode.error("feature group `\(group.name)` has the same id (\(group.id)) as `\(other)`; rename one of them"))
                continue
            }
            groupNamesByID[group.id] = group.name
            groups.append(group)
        }
        return groups
    }

    /// One feature group, or nil after reporting its problems.
    private mutating func compileGroup(
        _ declaration: SpecNode.Entry, events: [EventSchema], entities: [EntityDefinition], declaredNames: Set<String>
    ) -> FeatureGroup? {
        let name = declaration.key
        let context = "feature group `\(name)`"
        guard let entries = mappingEntries(declaration.value, describing: "\(context) (`entity`, `from`, `aggregates`)") else { return nil }
        let errorCount = errors.count
        let options = knownEntries(entries, allowed: Self.groupKeys, in: context)
        for required in ["entity", "from", "aggregates"] where options[required] == nil {
            errors.append(declaration.keyNode.error("\(context) has no `\(required)`; a group needs `entity`, `from` and `aggregates`"))
        }
        let entity = options["entity"].flatMap {
            lookUp($0, in: entities.map(\.name), kind: "entity", declaredNames: declaredNames).flatMap { name in entities.first { $0.name == name } }
        }
        let event = options["from"].flatMap {
            lookUp($0, in: events.map(\.name), kind: "event", declaredNames: declaredNames).flatMap { name in events.first { $0.name == name } }
        }
        var keyFieldIndices: [Int] = []
        if let entity, let event, let entityNode = options["entity"] {
            keyFieldIndices = keyIndices(of: entity, in: event, at: entityNode)
        }
        var filter: (predicate: Predicate, canonical: String)?
        if let whereNode = options["where"], let event { filter = predicate(whereNode, event: event) }
        let ttl = options["ttl"].flatMap { duration($0) }
        var aggregates: [AggregateDefinition] = []
        if let aggregatesNode = options["aggregates"],
           let aggregateEntries = mappingEntries(aggregatesNode, describing: "`aggregates` of \(context)") {
            if aggregateEntries.isEmpty {
                errors.append(aggregatesNode.error("\(context) has no aggregates; add at least one, like `views: { op: count, windows: [1d] }`"))
            }
            let scope = AggregateScope(event: event, eventName: options["from"]?.scalarText ?? "", groupFilter: filter?.canonical)
            aggregates = compileAggregates(aggregateEntries, scope: scope)
        }
        guard errors.count == errorCount, let entity, let event else { return nil }
        let keyDefinition = zip(entity.keyFields, keyFieldIndices).map { "\($0):\(event.fields[$1].type)" }.joined(separator: ",")
        let id = StableID.fnv1a32("group=\(name);entity=\(entity.name);key=\(keyDefinition)")
        return FeatureGroup(
            id: id, name: name, entity: entity.name, event: event.name, keyFieldIndices: keyFieldIndices,
            filter: filter?.predicate, ttl: ttl, aggregates: aggregates
        )
    }

    /// The declared name at `node` when it is one of `names`; otherwise reports it with a suggestion.
    private mutating func lookUp(_ node: SpecNode, in names: [String], kind: String, declaredNames: Set<String>) -> String? {
        guard let name = nameText(node, describing: "the \(kind)") else { return nil }
        if names.contains(name) { return name }
        if !declaredNames.contains(name) {
            let suggestion = NameSuggestion.hint(for: name, in: names)
            let known = names.isEmpty ? "none are declared" : "declared: \(NameSuggestion.list(names))"
            errors.append(node.error("unknown \(kind) `\(name)`\(suggestion) (\(known))"))
        }
        return nil
    }

    /// The indices of the entity's key fields in the event; reports missing or unsuitable ones.
    private mutating func keyIndices(of entity: EntityDefinition, in event: EventSchema, at node: SpecNode) -> [Int] {
        var indices: [Int] = []
        for keyField in entity.keyFields {
            guard let index = event.fieldIndex(named: keyField) else {
                let suggestion = NameSuggestion.hint(for: keyField, in: event.fields.map(\.name))
                errors.append(node.error("entity `\(entity.name)` is keyed by `\(keyField)`, which event `\(event.name)` does not have\(suggestion); add the field to the event or group by another entity"))
                continue
            }
            let field = event.fields[index]
            if field.type != .string && field.type != .int {
                errors.append(node.error("key field `\(keyField)` of entity `\(entity.name)` is \(field.type) in event `\(event.name)`; entity keys are string or int fields"))
            } else if field.isOptional {
                errors.append(node.error("key field `\(keyField)` of entity `\(entity.name)` is optional in event `\(event.name)`; every event needs its key: make the field required (drop the `?`)"))
            }
            indices.append(index)
        }
        return indices
    }
}
