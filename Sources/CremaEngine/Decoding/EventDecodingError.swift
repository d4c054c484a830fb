/// Why an event line was refused by `EventDecoder`: a code to branch on and a short message
/// that names the field and what was expected, for the producer's error line.
public struct EventDecodingError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The kind of problem; extensible, so new kinds do not break callers.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        /// The code's name, as logged.
        public let description: String

        private init(_ description: String) { self.description = description }

        /// The line is not a single well-formed JSON object (syntax, nesting, trailing data).
        public static let malformedJSON = Code("malformedJSON")
        /// The line is valid JSON but not an object.
        public static let notAnObject = Code("notAnObject")
        /// The line contains bytes that are not UTF-8.
        public static let invalidUTF8 = Code("invalidUTF8")
        /// `type` is missing, not a string or names no event type of the spec.
        public static let unknownEventType = Code("unknownEventType")
        /// A required field (or the time field, or `seq` when required) is missing.
        public static let missingField = Code("missingField")
        /// A field holds a value of the wrong type or out of range.
        public static let mistypedField = Code("mistypedField")
        /// A key appears twice in the object.
        public static let duplicateKey = Code("duplicateKey")
        /// A reserved key (`producer`) is used in an event.
        public static let reservedKey = Code("reservedKey")
    }

    /// The kind of problem.
    public var code: Code
    /// A short message for the producer, such as `field watch_ms: expected int, got "abc"`.
    public var message: String

    /// Creates a decoding error.
    public init(code: Code, message: String) {
        self.code = code
        self.message = message
    }

    /// The message.
    public var description: String { message }
}
