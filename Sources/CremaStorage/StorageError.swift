import CRocksDB

/// The one error type of CremaStorage: what failed (`code`) and a message a user can act on.
///
/// Errors from RocksDB carry RocksDB's own message (for example
/// `IO error: lock hold by current process`), so the cause reaches the operator unchanged.
public struct StorageError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The kind of failure; extensible, so new kinds do not break callers that switch on it.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        /// The stable name of the code, as printed in messages.
        public let name: String

        /// Creates a code with the given stable name.
        public init(_ name: String) {
            self.name = name
        }

        /// RocksDB reported an error (open, read, write, flush, …).
        public static let rocksdb = Code("rocksdb")
        /// Stored bytes do not decode: a key, row, log block or meta value is malformed.
        public static let corruption = Code("corruption")
        /// LZ4 could not decompress a block.
        public static let compression = Code("compression")

        /// The code's name.
        public var description: String { name }
    }

    /// What kind of failure this is.
    public var code: Code
    /// What went wrong, in words.
    public var message: String

    /// Creates an error with a code and a message.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    /// `"<code>: <message>"`.
    public var description: String { "\(code): \(message)" }

    /// Runs a RocksDB C call that reports failure through `char** errptr`; if it set an error,
    /// frees RocksDB's message and throws it as a `StorageError` with code `.rocksdb`.
    ///
    /// The single place where RocksDB error strings are turned into Swift errors.
    static func checkingRocksDB<Result>(
        _ body: (UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) throws -> Result
    ) throws -> Result {
        var errorPointer: UnsafeMutablePointer<CChar>? = nil
        let result = try body(&errorPointer)
        if let errorPointer {
            throw StorageError(takingRocksDBMessage: errorPointer)
        }
        return result
    }

    /// Creates a `.rocksdb` error from a message RocksDB allocated, and frees the message.
    init(takingRocksDBMessage message: UnsafeMutablePointer<CChar>) {
        self.init(.rocksdb, String(cString: message))
        rocksdb_free(message)
    }
}
