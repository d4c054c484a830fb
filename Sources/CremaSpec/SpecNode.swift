import Yams

/// A YAML node with where it came from: its file, its position and its path inside the spec.
struct SpecNode {
    /// The YAML node.
    let node: Node
    /// The spec file the node is in.
    let file: String
    /// The path inside the spec (`features.video_stats.aggregates.views`).
    let path: String

    /// The node's 1-based line.
    var line: Int { node.mark?.line ?? 1 }
    /// The node's 1-based column.
    var column: Int { node.mark?.column ?? 1 }

    /// One entry of a mapping: the key (for errors about the key) and the value.
    struct Entry {
        /// The key as written.
        let key: String
        /// The key node, for errors about the key itself (unknown key, duplicate name).
        let keyNode: SpecNode
        /// The value node.
        let value: SpecNode
    }

    /// The node's text, when it is a scalar.
    var scalarText: String? { node.scalar?.string }

    /// Whether the node is a scalar written without quotes or block style.
    var isPlainScalar: Bool { node.scalar?.style == .plain }

    /// Whether the node is a plain `null`, `~` or empty scalar.
    var isNull: Bool {
        guard let scalar = node.scalar, scalar.style == .plain else { return false }
        return ["", "~", "null", "Null", "NULL"].contains(scalar.string)
    }

    /// The mapping's entries in order, or nil when the node is not a mapping.
    var entries: [Entry]? {
        guard let mapping = node.mapping else { return nil }
        return mapping.map { key, value in
            let name = key.scalar?.string ?? "?"
            return Entry(
                key: name,
                keyNode: SpecNode(node: key, file: file, path: path.isEmpty ? name : "\(path).\(name)"),
                value: SpecNode(node: value, file: file, path: path.isEmpty ? name : "\(path).\(name)")
            )
        }
    }

    /// The sequence's items, or nil when the node is not a sequence.
    var items: [SpecNode]? {
        guard let sequence = node.sequence else { return nil }
        return sequence.enumerated().map { index, item in
            SpecNode(node: item, file: file, path: "\(path)[\(index)]")
        }
    }

    /// The node as an integer, when it is a plain integer scalar.
    var integer: Int? {
        guard isPlainScalar, let text = scalarText else { return nil }
        return Int(text)
    }

    /// The node as a number, when it is a plain numeric scalar.
    var number: Double? {
        guard isPlainScalar, let text = scalarText, let value = Double(text), value.isFinite else { return nil }
        return value
    }

    /// The node as a Boolean, when it is a plain `true` or `false`.
    var boolean: Bool? {
        guard isPlainScalar, let text = scalarText else { return nil }
        switch text {
        case "true", "True", "TRUE": return true
        case "false", "False", "FALSE": return false
        default: return nil
        }
    }

    /// A short description of the node's kind, for "expected X, got Y" messages.
    var kindDescription: String {
        switch node {
        case .scalar(let scalar): return isNull ? "nothing" : "`\(scalar.string)`"
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .alias: return "an alias"
        }
    }

    /// An error at this node.
    func error(_ message: String) -> SpecError {
        SpecError(file: file, line: line, column: column, path: path, message: message)
    }

    /// An error at a column offset inside this node's text (for `where` expressions).
    ///
    /// Offsets are exact for plain and quoted scalars on one line; otherwise the node's start is used.
    func error(atOffset offset: Int, _ message: String) -> SpecError {
        guard let scalar = node.scalar, !scalar.string.contains("\n") else { return error(message) }
        let column: Int
        switch scalar.style {
        case .plain: column = self.column + offset
        case .singleQuoted, .doubleQuoted: column = self.column + 1 + offset
        default: column = self.column
        }
        return SpecError(file: file, line: line, column: column, path: path, message: message)
    }
}
