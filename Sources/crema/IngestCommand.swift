import ArgumentParser
import CremaIngest
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `crema ingest FILE|-`: sends NDJSON events through the ingest socket with a progress bar,
/// then prints the summary; exits 1 if any line was rejected.
struct IngestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ingest",
        abstract: "Send NDJSON events (a file, or - for standard input) to a running crema serve."
    )

    @Argument(help: "The NDJSON file, or - for standard input.")
    var file: String

    @Option(help: "The ingest socket: HOST:PORT or unix:PATH.")
    var to = "127.0.0.1:7070"

    @Option(help: "A producer name: events carry increasing \"seq\" and are applied exactly once.")
    var producer: String?

    func run() async throws {
        let client = IngestClient(address: try IngestAddress(parsing: to), producer: producer)
        let total = file == "-" ? nil : fileSize(file)
        let bar = ProgressBar(totalBytes: total)
        let summary = try await client.send(path: file == "-" ? nil : file) { bar.update($0) }
        bar.finish()
        for error in summary.errors {
            printToStandardError("line \(error.line): \(error.message)")
        }
        let totals = summary.totals
        if let lastSequence = summary.lastSequence, let producer {
            print("producer \(producer): last_seq was \(lastSequence)")
        }
        print("\(summary.linesSent) lines: \(totals.accepted) accepted, \(totals.rejected) rejected, \(totals.duplicates) duplicates, \(totals.late) late")
        if totals.rejected > 0 { throw ExitCode(1) }
    }

    private func fileSize(_ path: String) -> Int? {
        var status = stat()
        return stat(path, &status) == 0 ? Int(status.st_size) : nil
    }
}

/// A one-line progress display on standard error, redrawn at most ten times a second.
final class ProgressBar: Sendable {
    private let totalBytes: Int?
    private let state = Mutex<(lastDraw: ContinuousClock.Instant?, progress: IngestClient.Progress?)>((nil, nil))
    private let isTerminal = isatty(STDERR_FILENO) != 0

    init(totalBytes: Int?) {
        self.totalBytes = totalBytes
    }

    /// Records progress and redraws when due.
    func update(_ progress: IngestClient.Progress) {
        let now = ContinuousClock.now
        let shouldDraw = state.withLock { state in
            state.progress = progress
            guard let last = state.lastDraw, now - last < .milliseconds(100) else {
                state.lastDraw = now
                return true
            }
            return false
        }
        if shouldDraw && isTerminal { draw(progress) }
    }

    /// Draws the final state and ends the line.
    func finish() {
        guard isTerminal, let progress = state.withLock({ $0.progress }) else { return }
        draw(progress)
        writeToStandardError("\n")
    }

    private func draw(_ progress: IngestClient.Progress) {
        var line = "\r"
        if let totalBytes, totalBytes > 0 {
            let fraction = min(1, Double(progress.bytesSent) / Double(totalBytes))
            let width = 30
            let filled = Int(fraction * Double(width))
            line += "[" + String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled) + "] "
            line += "\(Int(fraction * 100))% "
        }
        line += "sent \(progress.linesSent) lines, acked \(progress.acknowledgedLine), errors \(progress.errorCount)"
        writeToStandardError(line)
    }
}
