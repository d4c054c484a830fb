/// One problem in a spec: where it is (file, line, column, path inside the spec) and what to do.
public struct SpecError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The spec file the problem is in.
    public let file: String
    /// The 1-based line of the problem.
    public let line: Int
    /// The 1-based column of the problem.
    public let column: Int
    /// The path inside the spec, e.g. `features.video_stats.aggregates.views.windows[1]`.
    public let path: String
    /// What is wrong and what to do about it.
    public let message: String

    /// Creates a spec error.
    public init(file: String, line: Int, column: Int, path: String, message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.path = path
        self.message = message
    }

    /// `file:line:column: path: message` (the path is left out when empty).
    public var description: String {
        let location = "\(file):\(line):\(column)"
        return path.isEmpty ? "\(location): \(message)" : "\(location): \(path): \(message)"
    }
}

/// Every problem found in a spec, in file and line order. A spec with errors is never applied.
public struct SpecErrors: Error, Sendable, CustomStringConvertible {
    /// The problems, in file and line order.
    public let errors: [SpecError]

    /// Creates the error list, sorted by file, line and column.
    public init(errors: [SpecError]) {
        self.errors = errors.sorted { ($0.file, $0.line, $0.column) < ($1.file, $1.line, $1.column) }
    }

    /// One error per line.
    public var description: String { errors.map(\.description).joined(separator: "\n") }
}
