/// The lines the ingest socket writes back to a producer, as JSON text without the newline.
enum ReplyLine {
    /// `{"error": "...", "line": N}`; line 0 is a connection-level error, followed by a close.
    static func error(_ message: String, line: Int) -> String {
        "{\"error\": \(quoted(message)), \"line\": \(line)}"
    }

    /// `{"ack": N, "accepted": A, "rejected": R, "duplicates": D, "late": L}`.
    static func ack(_ line: Int, _ totals: IngestTotals) -> String {
        "{\"ack\": \(line), \"accepted\": \(totals.accepted), \"rejected\": \(totals.rejected), "
            + "\"duplicates\": \(totals.duplicates), \"late\": \(totals.late)}"
    }

    /// `{"producer": "name", "last_seq": N}`, the answer to a hello.
    static func hello(producer: String, lastSequence: UInt64) -> String {
        "{\"producer\": \(quoted(producer)), \"last_seq\": \(lastSequence)}"
    }

    /// `text` as a JSON string literal: quotes, backslashes and control characters escaped.
    /// - Complexity: O(n).
    static func quoted(_ text: String) -> String {
        var output = "\""
        output.reserveCapacity(text.utf8.count + 2)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": output += "\\\""
            case "\\": output += "\\\\"
            case "\n": output += "\\n"
            case "\r": output += "\\r"
            case "\t": output += "\\t"
            case _ where scalar.value < 0x20 || scalar.value == 0x7F:
                let hex = String(scalar.value, radix: 16)
                output += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: output.unicodeScalars.append(scalar)
            }
        }
        output += "\""
        return output
    }
}

/// A connection's running totals, as reported in each ack.
public struct IngestTotals: Sendable, Equatable {
    /// Events applied (late ones included).
    public var accepted = 0
    /// Lines refused: decoding errors plus engine rejections.
    public var rejected = 0
    /// Events skipped because their `seq` was already settled.
    public var duplicates = 0
    /// Accepted events too old for every window they feed.
    public var late = 0

    /// Creates totals.
    public init(accepted: Int = 0, rejected: Int = 0, duplicates: Int = 0, late: Int = 0) {
        self.accepted = accepted
        self.rejected = rejected
        self.duplicates = duplicates
        self.late = late
    }
}
