import Foundation

/// The spec the process tests serve: clicks on items.
let clicksSpec = """
events:
  click:
    time: ts
    fields: { item: string, amount: int }
entities:
  item: { key: item }
features:
  item_stats:
    entity: item
    from: click
    aggregates:
      clicks: { op: count }
      amount: { op: sum, field: amount }
      recent: { op: last_n, field: amount, n: 3 }
"""

/// A temp directory with `clicksSpec` in `specs/` and room for `data/`.
func makeClicksWorkspace() throws -> URL {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("crema-serve-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory.appendingPathComponent("specs"), withIntermediateDirectories: true)
    try clicksSpec.write(to: directory.appendingPathComponent("specs/clicks.yaml"), atomically: true, encoding: .utf8)
    return directory
}

/// The `crema` binary built next to the test bundle, run as a subprocess.
final class CremaProcess {
    let process = Process()
    private let output = Pipe()
    private let errors = Pipe()

    /// The path of the `crema` executable built with the tests.
    static var executable: URL {
        let testBinary = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        return testBinary.deletingLastPathComponent().appendingPathComponent("crema")
    }

    /// Starts `crema ARGUMENTS…`.
    init(_ arguments: [String]) throws {
        process.executableURL = Self.executable
        process.arguments = arguments
        process.standardOutput = output
        process.standardError = errors
        try process.run()
    }

    /// Runs `crema ARGUMENTS…` to its end; returns exit status, standard output and standard error.
    static func run(_ arguments: [String], input: Data? = nil) throws -> (status: Int32, output: String, errors: String) {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        let inputPipe = Pipe()
        if input != nil { process.standardInput = inputPipe }
        try process.run()
        if let input {
            inputPipe.fileHandleForWriting.write(input)
            try inputPipe.fileHandleForWriting.close()
        }
        let outputData = output.fileHandleForReading.readDataToEndOfFile()
        let errorData = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: outputData, as: UTF8.self), String(decoding: errorData, as: UTF8.self))
    }

    /// Waits for the ready line and returns the ingest port it names.
    func waitUntilReady() throws -> Int {
        try waitUntilReadyPorts().ingest
    }

    /// Waits for the ready line and returns the ingest and HTTP ports it names.
    func waitUntilReadyPorts() throws -> (ingest: Int, http: Int) {
        var seen = ""
        while true {
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty {
                let stderr = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
                throw ProcessFailure(message: "crema exited before it was ready: \(seen) \(stderr)")
            }
            seen += String(decoding: chunk, as: UTF8.self)
            func port(of listener: String) -> Int? {
                guard let range = seen.range(of: listener + #" on 127\.0\.0\.1:(\d+)"#, options: .regularExpression) else { return nil }
                return Int(seen[range].split(separator: ":").last!)
            }
            if let ingest = port(of: "ingest"), let http = port(of: "http") {
                return (ingest, http)
            }
        }
    }

    /// Sends a signal and waits for the process to end; returns its exit status.
    @discardableResult
    func stop(signal: Int32) -> Int32 {
        kill(process.processIdentifier, signal)
        process.waitUntilExit()
        return process.terminationStatus
    }
}

/// A subprocess or socket step that failed.
struct ProcessFailure: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}
