/// A failure of the ingest server or client (not a bad line: those are reported to the producer).
public struct IngestError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The kind of failure; extensible.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        /// The code's name, as logged.
        public let description: String

        private init(_ description: String) { self.description = description }

        /// An address is not `HOST:PORT` or `unix:PATH`.
        public static let invalidAddress = Code("invalidAddress")
        /// The server could not listen, or the client could not connect or read its input.
        public static let connectionFailed = Code("connectionFailed")
        /// The server refused the connection (`"line": 0`) or closed it before acknowledging every line.
        public static let connectionRefused = Code("connectionRefused")
        /// The server stopped before binding.
        public static let notRunning = Code("notRunning")
    }

    /// The kind of failure.
    public var code: Code
    /// What went wrong, for the operator.
    public var message: String

    /// Creates an ingest error.
    public init(code: Code, message: String) {
        self.code = code
        self.message = message
    }

    /// The message.
    public var description: String { message }
}
