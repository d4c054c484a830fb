import Foundation
import Testing

@testable import CremaSpec

/// A fresh temporary directory for one test, removed when the value is deinitialized.
final class TemporaryDirectory {
    /// The directory's path.
    let path: String

    /// Creates an empty directory under the system temporary directory.
    init() throws {
        path = NSTemporaryDirectory() + "crema-spec-tests-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    /// Writes `text` to `name` inside the directory and returns the file's path.
    @discardableResult
    func write(_ name: String, _ text: String) throws -> String {
        let file = path + "/" + name
        try text.write(toFile: file, atomically: true, encoding: .utf8)
        return file
    }
}

/// A small valid spec whose `aggregates` mapping is its last line (line 19); aggregates
/// appended by `specWithAggregates` start on line 20.
let baseSpec = """
events:
  view:
    time: ts
    fields:
      user_id: string
      video_id: string
      watch_ms: int
      score: float?
      liked: bool
      title: string
      embedding: vector[4]
entities:
  user: { key: user_id }
  video: { key: video_id }
features:
  stats:
    entity: video
    from: view
    aggregates:

"""

/// `baseSpec` with these aggregate lines (each indented by six spaces) appended from line 20.
func specWithAggregates(_ lines: String...) -> String {
    baseSpec + lines.map { "      " + $0 }.joined(separator: "\n") + "\n"
}

/// Writes `files` to a fresh temporary directory and compiles the directory as one spec.
func compileFiles(_ files: [(String, String)]) throws -> Result<CompiledSpec, SpecErrors> {
    let directory = try TemporaryDirectory()
    for (name, text) in files { try directory.write(name, text) }
    return SpecCompiler.compile(paths: [directory.path])
}

/// Compiles `yaml` as `spec.yaml` in a temporary directory; the spec or the errors.
func compileSpec(_ yaml: String) throws -> Result<CompiledSpec, SpecErrors> {
    try compileFiles([("spec.yaml", yaml)])
}

/// The errors compiling `yaml` gives; records an issue when it compiles.
func specErrors(_ yaml: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> [SpecError] {
    switch try compileSpec(yaml) {
    case .success:
        Issue.record("expected the spec to fail", sourceLocation: sourceLocation)
        return []
    case .failure(let errors):
        return errors.errors
    }
}

/// Checks that compiling `yaml` reports an error at `line` and `path` whose message holds `message`.
func expectSpecError(
    _ yaml: String, line: Int, column: Int? = nil, path: String, message: String,
    sourceLocation: SourceLocation = #_sourceLocation
) throws {
    let errors = try specErrors(yaml, sourceLocation: sourceLocation)
    let match = errors.first { $0.line == line && $0.path == path && $0.message.contains(message) }
    #expect(match != nil, "no error at line \(line), path \(path) containing \"\(message)\"; got:\n\(SpecErrors(errors: errors))", sourceLocation: sourceLocation)
    if let match, let column {
        #expect(match.column == column, "column of: \(match)", sourceLocation: sourceLocation)
    }
    #expect(errors.allSatisfy { $0.file.hasSuffix("spec.yaml") }, sourceLocation: sourceLocation)
}

/// The compiled spec of `yaml`; records an issue with the errors when it fails.
func compiledSpec(_ yaml: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> CompiledSpec? {
    switch try compileSpec(yaml) {
    case .success(let spec): return spec
    case .failure(let errors):
        Issue.record("unexpected spec errors:\n\(errors)", sourceLocation: sourceLocation)
        return nil
    }
}
