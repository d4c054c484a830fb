import Yams

/// One spec file parsed into YAML nodes, or the YAML error that stopped it.
enum YAMLDocument {
    /// Parses `text` into its root node; a YAML error becomes a `SpecError` at Yams' position.
    ///
    /// An empty file has no root and yields nil.
    static func parse(file: String, text: String) -> Result<SpecNode?, SpecError> {
        do {
            guard let root = try Yams.compose(yaml: text) else { return .success(nil) }
            return .success(SpecNode(node: root, file: file, path: ""))
        } catch let error as YamlError {
            return .failure(specError(for: error, file: file, text: text))
        } catch {
            return .failure(SpecError(file: file, line: 1, column: 1, path: "", message: "cannot read YAML: \(error)"))
        }
    }

    /// Turns a Yams error into a located spec error.
    private static func specError(for error: YamlError, file: String, text: String) -> SpecError {
        func located(_ position: (line: Int, column: Int), _ message: String, key: String? = nil) -> SpecError {
            let parents = pathOfLine(position.line, column: position.column, in: text)
            let path = [parents, key ?? ""].filter { !$0.isEmpty }.joined(separator: ".")
            return SpecError(file: file, line: position.line, column: position.column, path: path, message: message)
        }
        switch error {
        case .scanner(let context, let problem, let mark, _),
             .parser(let context, let problem, let mark, _),
             .composer(let context, let problem, let mark, _):
            let detail = context.map { " (\($0.text) at line \($0.mark.line))" } ?? ""
            return located((mark.line, mark.column), "YAML syntax error: \(problem)\(detail); check indentation, colons and brackets")
        case .duplicatedKeysInMapping(let duplicates, let context):
            let key = duplicates.first ?? "?"
            let first = (line: context.mark.line, column: context.mark.column)
            let second = nextOccurrence(ofKey: key, after: first, in: text) ?? first
            return located(second, "duplicate key `\(key)` (first at line \(first.line)); each key may appear once in a mapping: merge or rename one",
                           key: key)
        case .reader(let problem, _, _, _):
            return SpecError(file: file, line: 1, column: 1, path: "", message: "cannot read the file: \(problem); save it as UTF-8")
        default:
            return SpecError(file: file, line: 1, column: 1, path: "", message: "cannot read YAML: \(error)")
        }
    }

    /// Where `key` is written again as a mapping key after `mark` (Yams reports only the first place).
    private static func nextOccurrence(ofKey key: String, after mark: (line: Int, column: Int), in text: String) -> (line: Int, column: Int)? {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        for lineIndex in (mark.line - 1)..<lines.count {
            let line = Array(lines[lineIndex].unicodeScalars)
            let start = lineIndex == mark.line - 1 ? mark.column : 0
            var column = start
            while column < line.count {
                if keyMatches(key, in: line, at: column) { return (lineIndex + 1, column + 1) }
                column += 1
            }
        }
        return nil
    }

    /// Whether `line` holds `key` (optionally quoted) followed by `:` at `column`, as a whole word.
    private static func keyMatches(_ key: String, in line: [Unicode.Scalar], at column: Int) -> Bool {
        let keyScalars = Array(key.unicodeScalars)
        for quote in ["", "\"", "'"] {
            let candidate = Array(quote.unicodeScalars) + keyScalars + Array(quote.unicodeScalars)
            let end = column + candidate.count
            guard end <= line.count, Array(line[column..<end]) == candidate else { continue }
            if column > 0, isWordScalar(line[column - 1]) { continue }
            var index = end
            while index < line.count, line[index] == " " { index += 1 }
            if index < line.count, line[index] == ":" { return true }
        }
        return false
    }

    /// Whether a scalar can be part of a plain key.
    private static func isWordScalar(_ scalar: Unicode.Scalar) -> Bool {
        scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || scalar == "_" || scalar == "-"
    }

    /// The spec path of the keys enclosing (`line`, `column`), reconstructed from indentation
    /// (Yams gives no tree when it fails, so this reads the block structure of the text).
    static func pathOfLine(_ line: Int, column: Int, in text: String) -> String {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { Array($0.unicodeScalars) }
        guard line >= 1, line <= lines.count else { return "" }
        var keys: [String] = []
        var limit = column
        for index in stride(from: line - 1, through: 0, by: -1) {
            guard let (keyColumn, key) = leadingKey(of: lines[index]) else { continue }
            if keyColumn < limit {
                keys.append(key)
                limit = keyColumn
                if keyColumn == 1 { break }
            }
        }
        return keys.reversed().joined(separator: ".")
    }

    /// The first `key:` of a line and its 1-based column, skipping blank and comment lines.
    private static func leadingKey(of line: [Unicode.Scalar]) -> (Int, String)? {
        var index = 0
        while index < line.count, line[index] == " " || line[index] == "-" { index += 1 }
        guard index < line.count, line[index] != "#" else { return nil }
        let start = index
        var key = ""
        while index < line.count, isWordScalar(line[index]) || line[index] == "\"" || line[index] == "'" {
            if line[index] != "\"", line[index] != "'" { key.unicodeScalars.append(line[index]) }
            index += 1
        }
        while index < line.count, line[index] == " " { index += 1 }
        guard !key.isEmpty, index < line.count, line[index] == ":" else { return nil }
        return (start + 1, key)
    }
}
