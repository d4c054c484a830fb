import ArgumentParser

/// The `crema` command line: composes Crema's services; nothing else lives here.
@main
struct Crema: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "crema",
        abstract: "A real-time feature platform for recommendation systems.",
        subcommands: [ServeCommand.self, IngestCommand.self, GetCommand.self, ValidateCommand.self, BenchCommand.self]
    )
}
