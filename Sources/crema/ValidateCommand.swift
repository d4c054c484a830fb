import ArgumentParser
import CremaSpec

/// `crema validate [PATH…]`: every spec error with file:line and cause; exit 1 if any.
struct ValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check spec files and directories; print every error with file:line and cause."
    )

    @Argument(help: "Spec files or directories (a directory is one spec).")
    var paths: [String] = ["specs"]

    func run() throws {
        switch SpecCompiler.compile(paths: paths) {
        case .success(let spec):
            print("ok: \(spec.summary)")
        case .failure(let errors):
            printToStandardError(errors.description)
            printToStandardError("\(errors.errors.count) error\(errors.errors.count == 1 ? "" : "s")")
            throw ExitCode(1)
        }
    }
}
