import CremaAggregation

/// Checks parsed spec documents and builds the compiled spec, collecting every error on the way.
///
/// Declarations are gathered from all files first (names are global across a spec's files),
/// then events, entities and feature groups are checked in that order.
struct SpecValidator {
    /// Names that events reserve for the ingest protocol.
    static let reservedFieldNames: Set<String> = ["type", "seq", "producer"]
    /// The keys a spec file may have at its top level.
    static let topLevelKeys = ["events", "entities", "features"]

    /// Every problem found so far.
    var errors: [SpecError] = []
    /// Event declarations from all files, in order.
    var eventDeclarations: [SpecNode.Entry] = []
    /// Entity declarations from all files, in order.
    var entityDeclarations: [SpecNode.Entry] = []
    /// Feature group declarations from all files, in order.
    var groupDeclarations: [SpecNode.Entry] = []

    /// Adds the declarations of one file's root node.
    mutating func collect(_ root: SpecNode) {
        if root.isNull { return }
        guard let entries = root.entries else {
            errors.append(root.error("a spec file is a mapping with `events`, `entities` and `features`; got \(root.kindDescription)"))
            return
        }
        for entry in entries {
            guard Self.topLevelKeys.contains(entry.key) else {
                reportUnknownKey(entry, allowed: Self.topLevelKeys, in: "a spec file")
                continue
            }
            if entry.value.isNull { continue }
            guard let declarations = entry.value.entries else {
                errors.append(entry.value.error("`\(entry.key)` is a mapping from names to definitions; got \(entry.value.kindDescription)"))
                continue
            }
            switch entry.key {
            case "events": eventDeclarations += declarations
            case "entities": entityDeclarations += declarations
            default: groupDeclarations += declarations
            }
        }
    }

    /// Validates everything collected; the compiled spec when there are no errors.
    mutating func compile() -> CompiledSpec? {
        let eventEntries = unique(eventDeclarations, kind: "event")
        let entityEntries = unique(entityDeclarations, kind: "entity")
        let events = compileEvents(eventEntries)
        let entities = compileEntities(entityEntries)
        let groups = compileGroups(
            unique(groupDeclarations, kind: "feature group"),
            events: events, entities: entities,
            declaredNames: Set(eventEntries.map(\.key)).union(entityEntries.map(\.key))
        )
        guard errors.isEmpty else { return nil }
        return CompiledSpec(events: events, entities: entities, groups: groups)
    }

    /// The declarations with valid, unique names; reports the others.
    private mutating func unique(_ declarations: [SpecNode.Entry], kind: String) -> [SpecNode.Entry] {
        var seen: [String: SpecNode] = [:]
        var result: [SpecNode.Entry] = []
        for declaration in declarations {
            guard checkName(declaration, kind: kind) else { continue }
            if let first = seen[declaration.key] {
                errors.append(declaration.keyNode.error("duplicate \(kind) `\(declaration.key)`, first declared at \(first.file):\(first.line); names are global across the spec's files: rename or remove one"))
                continue
            }
            seen[declaration.key] = declaration.keyNode
            result.append(declaration)
        }
        return result
    }

    /// Whether a declared name is an identifier (letters, digits, `_`, not starting with a digit);
    /// reports it when not.
    mutating func checkName(_ entry: SpecNode.Entry, kind: String) -> Bool {
        let name = entry.key
        let isIdentifier = name.first.map { $0 == "_" || ($0.isASCII && $0.isLetter) } == true
            && name.allSatisfy { $0 == "_" || ($0.isASCII && ($0.isLetter || $0.isNumber)) }
        guard isIdentifier else {
            errors.append(entry.keyNode.error("\(kind) name `\(name)` is not a valid name; use letters, digits and `_`, starting with a letter (like `watch_ms`)"))
            return false
        }
        guard !ExpressionParser.keywords.contains(name) else {
            errors.append(entry.keyNode.error("`\(name)` is a reserved word in `where` expressions; pick another \(kind) name"))
            return false
        }
        return true
    }

    /// Reports every key of `entries` not in `allowed`, suggesting the closest allowed key.
    /// Returns the entries whose keys are allowed.
    mutating func knownEntries(_ entries: [SpecNode.Entry], allowed: [String], in context: String) -> [String: SpecNode] {
        var known: [String: SpecNode] = [:]
        for entry in entries {
            if allowed.contains(entry.key) {
                known[entry.key] = entry.value
            } else {
                reportUnknownKey(entry, allowed: allowed, in: context)
            }
        }
        return known
    }

    /// Reports an unknown key with the closest valid key and the list of valid ones.
    mutating func reportUnknownKey(_ entry: SpecNode.Entry, allowed: [String], in context: String) {
        let suggestion = NameSuggestion.hint(for: entry.key, in: allowed)
        errors.append(entry.keyNode.error("unknown key `\(entry.key)` in \(context)\(suggestion) (valid keys: \(NameSuggestion.list(allowed)))"))
    }

    /// The mapping entries of `node`, or nil after reporting that a mapping was expected.
    mutating func mappingEntries(_ node: SpecNode, describing what: String) -> [SpecNode.Entry]? {
        guard let entries = node.entries else {
            errors.append(node.error("\(what) must be a mapping; got \(node.kindDescription)"))
            return nil
        }
        return entries
    }

    /// The text of a scalar `node`, or nil after reporting that a name was expected.
    mutating func nameText(_ node: SpecNode, describing what: String) -> String? {
        guard let text = node.scalarText, !node.isNull else {
            errors.append(node.error("\(what) must be a name; got \(node.kindDescription)"))
            return nil
        }
        return text
    }

    /// The duration at `node` in milliseconds, or nil after reporting the problem.
    mutating func duration(_ node: SpecNode) -> Int64? {
        switch SpecDuration.milliseconds(at: node) {
        case .success(let milliseconds): return milliseconds
        case .failure(let error):
            errors.append(error)
            return nil
        }
    }

    /// The compiled `where` at `node` over `event`, or nil after reporting its problems.
    mutating func predicate(_ node: SpecNode, event: EventSchema) -> (predicate: Predicate, canonical: String)? {
        PredicateCompiler.compile(node, event: event, problems: &errors)
    }
}
