import Foundation

/// The entry point from spec files to a `CompiledSpec`: reads, validates and compiles,
/// reporting every error at once. A spec with any error yields no compiled spec.
public enum SpecCompiler {
    /// Reads, validates and compiles spec files and directories; all errors at once.
    ///
    /// A directory is one spec: all its `*.yaml` and `*.yml` files (not recursive), in name order.
    /// All paths together form one spec, so names are global across every file read.
    public static func compile(paths: [String]) -> Result<CompiledSpec, SpecErrors> {
        var sources: [(file: String, text: String)] = []
        var errors: [SpecError] = []
        for path in paths {
            switch SpecFiles.read(path) {
            case .success(let read): sources += read
            case .failure(let error): errors.append(error)
            }
        }
        if paths.isEmpty {
            errors.append(SpecError(file: "", line: 1, column: 1, path: "", message: "no spec files given; pass spec files or a directory of them"))
        }
        return compile(sources: sources, earlierErrors: errors)
    }

    /// Same from in-memory sources (file name → YAML text), for tests and the HTTP API.
    public static func compile(sources: [(file: String, text: String)]) -> Result<CompiledSpec, SpecErrors> {
        compile(sources: sources, earlierErrors: [])
    }

    /// Parses and validates `sources`, adding errors met while reading them.
    private static func compile(sources: [(file: String, text: String)], earlierErrors: [SpecError]) -> Result<CompiledSpec, SpecErrors> {
        var validator = SpecValidator()
        validator.errors = earlierErrors
        for source in sources {
            switch YAMLDocument.parse(file: source.file, text: source.text) {
            case .success(let root?): validator.collect(root)
            case .success(nil): break
            case .failure(let error): validator.errors.append(error)
            }
        }
        let spec = validator.compile()
        guard let spec, validator.errors.isEmpty else { return .failure(SpecErrors(errors: validator.errors)) }
        return .success(spec)
    }
}

/// Finding and reading spec files.
enum SpecFiles {
    /// The spec files at `path`: the file itself, or a directory's `*.yaml`/`*.yml` files in name order.
    static func read(_ path: String) -> Result<[(file: String, text: String)], SpecError> {
        let manager = FileManager.default
        var isDirectory: ObjCBool = false
        guard manager.fileExists(atPath: path, isDirectory: &isDirectory) else {
            return .failure(SpecError(file: path, line: 1, column: 1, path: "", message: "no such file or directory"))
        }
        guard isDirectory.boolValue else { return readFile(path).map { [$0] } }
        let names: [String]
        do {
            names = try manager.contentsOfDirectory(atPath: path)
        } catch {
            return .failure(SpecError(file: path, line: 1, column: 1, path: "", message: "cannot list the directory: \(error.localizedDescription)"))
        }
        let specNames = names.filter { ($0.hasSuffix(".yaml") || $0.hasSuffix(".yml")) && !$0.hasPrefix(".") }.sorted()
        guard !specNames.isEmpty else {
            return .failure(SpecError(file: path, line: 1, column: 1, path: "", message: "the directory has no .yaml or .yml files; a spec directory holds its spec files"))
        }
        var sources: [(file: String, text: String)] = []
        for name in specNames {
            let file = path.hasSuffix("/") ? path + name : path + "/" + name
            switch readFile(file) {
            case .success(let source): sources.append(source)
            case .failure(let error): return .failure(error)
            }
        }
        return .success(sources)
    }

    /// One file's text, which must be UTF-8.
    private static func readFile(_ file: String) -> Result<(file: String, text: String), SpecError> {
        guard let data = FileManager.default.contents(atPath: file) else {
            return .failure(SpecError(file: file, line: 1, column: 1, path: "", message: "cannot read the file; check its permissions"))
        }
        guard let text = String(data: data, encoding: .utf8) else {
            return .failure(SpecError(file: file, line: 1, column: 1, path: "", message: "the file is not UTF-8 text; save it as UTF-8"))
        }
        return .success((file, text))
    }
}
