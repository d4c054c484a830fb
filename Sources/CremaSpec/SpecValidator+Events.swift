import CremaAggregation

extension SpecValidator {
    /// The type names a field may have, for suggestions.
    private static let typeNames = ["string", "int", "float", "bool", "vector[N]"]

    /// Checks event declarations and returns the valid event schemas.
    mutating func compileEvents(_ declarations: [SpecNode.Entry]) -> [EventSchema] {
        declarations.compactMap { compileEvent($0) }
    }

    /// One event schema, or nil after reporting its problems.
    private mutating func compileEvent(_ declaration: SpecNode.Entry) -> EventSchema? {
        let context = "event `\(declaration.key)`"
        guard let entries = mappingEntries(declaration.value, describing: "\(context) (`fields` and optionally `time`)") else { return nil }
        let options = knownEntries(entries, allowed: ["time", "fields"], in: context)
        guard let fieldsNode = options["fields"] else {
            errors.append(declaration.keyNode.error("\(context) has no `fields`; add `fields: { name: type, … }` with types string, int, float, bool or vector[N]"))
            return nil
        }
        let errorCount = errors.count
        var fields: [EventField] = []
        if !fieldsNode.isNull, let fieldEntries = mappingEntries(fieldsNode, describing: "`fields` of \(context)") {
            for entry in fieldEntries {
                guard checkName(entry, kind: "field") else { continue }
                if Self.reservedFieldNames.contains(entry.key) {
                    errors.append(entry.keyNode.error("`\(entry.key)` is reserved by the ingest protocol (`type`, `seq`, `producer`); rename the field"))
                    continue
                }
                if let field = compileField(entry) { fields.append(field) }
            }
        }
        var timeField: String?
        if let timeNode = options["time"] {
            if let key = nameText(timeNode, describing: "`time` (the JSON key holding the event time)") {
                if fields.contains(where: { $0.name == key }) {
                    errors.append(timeNode.error("`\(key)` is both the time key and a field; the time key is not a field: remove it from `fields`"))
                } else if Self.reservedFieldNames.contains(key) {
                    errors.append(timeNode.error("`\(key)` is reserved by the ingest protocol; name the time key something else, like `ts`"))
                } else {
                    timeField = key
                }
            }
        }
        guard errors.count == errorCount else { return nil }
        return EventSchema(name: declaration.key, fields: fields, timeField: timeField)
    }

    /// One field from `name: type` (`int`, `string?`, `vector[8]`), or nil after reporting it.
    private mutating func compileField(_ entry: SpecNode.Entry) -> EventField? {
        guard var text = entry.value.scalarText, !entry.value.isNull else {
            errors.append(entry.value.error("field `\(entry.key)` needs a type: string, int, float, bool or vector[N] (a trailing `?` makes it optional)"))
            return nil
        }
        text = text.trimmingSpaces()
        let isOptional = text.hasSuffix("?")
        if isOptional { text.removeLast() }
        text = text.trimmingSpaces()
        switch text {
        case "string": return EventField(name: entry.key, type: .string, isOptional: isOptional)
        case "int": return EventField(name: entry.key, type: .int, isOptional: isOptional)
        case "float": return EventField(name: entry.key, type: .float, isOptional: isOptional)
        case "bool": return EventField(name: entry.key, type: .bool, isOptional: isOptional)
        default: break
        }
        if text.hasPrefix("vector[") && text.hasSuffix("]") {
            let inside = text.dropFirst("vector[".count).dropLast()
            guard let dimension = Int(inside), dimension > 0 else {
                errors.append(entry.value.error("`\(text)`: a vector's dimension must be a positive integer, like `vector[8]`"))
                return nil
            }
            return EventField(name: entry.key, type: .vector(dimension: dimension), isOptional: isOptional)
        }
        let suggestion = NameSuggestion.hint(for: text, in: Self.typeNames)
        errors.append(entry.value.error("unknown type `\(text)` for field `\(entry.key)`\(suggestion) (types: string, int, float, bool, vector[N]; a trailing `?` makes a field optional)"))
        return nil
    }

    /// Checks entity declarations and returns the valid entities.
    mutating func compileEntities(_ declarations: [SpecNode.Entry]) -> [EntityDefinition] {
        declarations.compactMap { declaration in
            let context = "entity `\(declaration.key)`"
            guard let entries = mappingEntries(declaration.value, describing: "\(context) (`key: field` or `key: [field, field]`)") else { return nil }
            let options = knownEntries(entries, allowed: ["key"], in: context)
            guard let keyNode = options["key"] else {
                errors.append(declaration.keyNode.error("\(context) has no `key`; add `key: user_id`, or `key: [country, category]` for a cohort"))
                return nil
            }
            let keyNodes = keyNode.items ?? [keyNode]
            if keyNodes.isEmpty {
                errors.append(keyNode.error("\(context) has an empty key; name at least one field"))
                return nil
            }
            var keyFields: [String] = []
            for node in keyNodes {
                guard let name = nameText(node, describing: "a key field of \(context)") else { return nil }
                if keyFields.contains(name) {
                    errors.append(node.error("key field `\(name)` is listed twice in \(context); list each field once"))
                    return nil
                }
                keyFields.append(name)
            }
            return EntityDefinition(name: declaration.key, keyFields: keyFields)
        }
    }
}

extension String {
    /// The string without leading and trailing spaces and tabs.
    func trimmingSpaces() -> String {
        var slice = Substring(self)
        while let first = slice.first, first == " " || first == "\t" { slice.removeFirst() }
        while let last = slice.last, last == " " || last == "\t" { slice.removeLast() }
        return String(slice)
    }
}
