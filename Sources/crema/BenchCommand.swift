import ArgumentParser

/// `crema bench`: benchmarks that print a table.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Run benchmarks and print their figures as a table.",
        subcommands: [BenchKernelsCommand.self, BenchDecodeCommand.self, BenchIngestCommand.self, BenchReadCommand.self]
    )
}
