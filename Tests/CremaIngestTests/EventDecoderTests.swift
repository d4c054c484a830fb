import Foundation
import CremaAggregation
@testable import CremaEngine
import Testing

@Suite("EventDecoder")
struct EventDecoderTests {
    private func decode(_ line: String, expectsSequence: Bool = false) -> Result<DecodedEvent, EventDecodingError> {
        Fixtures.decoder.decode(line: Array(line.utf8), lineNumber: 7, expectsSequence: expectsSequence)
    }

    private func decodeBytes(_ bytes: [UInt8]) -> Result<DecodedEvent, EventDecodingError> {
        Fixtures.decoder.decode(line: bytes, lineNumber: 1, expectsSequence: false)
    }

    private func event(_ line: String, expectsSequence: Bool = false, sourceLocation: SourceLocation = #_sourceLocation) throws -> DecodedEvent {
        switch decode(line, expectsSequence: expectsSequence) {
        case .success(let event): return event
        case .failure(let error):
            Issue.record("unexpected error: \(error.message)", sourceLocation: sourceLocation)
            throw error
        }
    }

    private func error(_ line: String, expectsSequence: Bool = false, sourceLocation: SourceLocation = #_sourceLocation) -> EventDecodingError? {
        error(of: decode(line, expectsSequence: expectsSequence), sourceLocation: sourceLocation)
    }

    private func error(of result: Result<DecodedEvent, EventDecodingError>, sourceLocation: SourceLocation = #_sourceLocation) -> EventDecodingError? {
        switch result {
        case .success: Issue.record("line was accepted", sourceLocation: sourceLocation); return nil
        case .failure(let error): return error
        }
    }

    private func field(_ name: String, _ json: String) -> Result<DecodedEvent, EventDecodingError> {
        var fields = ["\"user_id\"": "\"u1\"", "\"video_id\"": "\"v1\"", "\"watch_ms\"": "5"]
        fields["\"\(name)\""] = json
        let body = fields.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", ")
        return decode("{\"type\": \"view\", \"ts\": 0, \(body)}")
    }

    private func fieldValue(_ name: String, _ json: String, sourceLocation: SourceLocation = #_sourceLocation) -> FieldValue? {
        switch field(name, json) {
        case .success(let event): return event.fields[Fixtures.view.fieldIndex(named: name)!]
        case .failure(let error): Issue.record("unexpected error: \(error.message)", sourceLocation: sourceLocation); return nil
        }
    }

    private func fieldError(_ name: String, _ json: String, sourceLocation: SourceLocation = #_sourceLocation) -> String? {
        error(of: field(name, json), sourceLocation: sourceLocation)?.message
    }

    // MARK: Good lines

    @Test func decodesEveryFieldType() throws {
        let line = #"{"type": "view", "seq": 42, "ts": 1763900000000, "user_id": "u1", "video_id": "v9", "country": "US", "#
            + #""watch_ms": -1200, "liked": true, "score": 0.25, "embedding": [1, -2.5, 3e2]}"#
        let decoded = try event(line, expectsSequence: true)
        #expect(decoded.eventIndex == 0)
        #expect(decoded.fields == [.string("u1"), .string("v9"), .string("US"), .int(-1200), .bool(true), .float(0.25), .vector([1, -2.5, 300])])
        #expect(decoded.time == 1_763_900_000_000)
        #expect(decoded.sequence == 42)
        #expect(decoded.line == 7)
    }

    @Test func acceptsKeysInAnyOrderAndSurroundingWhitespace() throws {
        let decoded = try event(" \t{ \"watch_ms\" : 1 , \"video_id\":\"v\",\"user_id\":\"u\", \"ts\":5,\"type\" : \"view\" } \t")
        #expect(decoded.fields[3] == .int(1))
        #expect(decoded.time == 5)
    }

    @Test func eventWithoutTimeFieldHasNoTime() throws {
        let decoded = try event(#"{"type": "click", "user_id": "u1"}"#)
        #expect(decoded.eventIndex == 1)
        #expect(decoded.time == nil)
        #expect(decoded.sequence == 0)
    }

    @Test func optionalFieldsMissingOrNullAreNull() throws {
        let decoded = try event(#"{"type": "view", "ts": 0, "user_id": "u", "video_id": "v", "watch_ms": 1, "liked": null}"#)
        #expect(decoded.fields[2] == .null)
        #expect(decoded.fields[4] == .null)
        #expect(decoded.fields[5] == .null)
        #expect(decoded.fields[6] == .null)
    }

    @Test func skipsUnknownFieldsOfAnyShape() throws {
        let nested = String(repeating: "[", count: 60) + String(repeating: "]", count: 60)
        let objects = String(repeating: "{\"a\": ", count: 30) + "1" + String(repeating: "}", count: 30)
        let line = #"{"type": "view", "extra": {"a": [1, 2.5e-3, {"b": null}], "c": "x\"y"}, "list": [], "obj": {}, "deep": "#
            + nested + ", \"objs\": " + objects + #", "t": true, "f": false, "n": null, "ts": 0, "user_id": "u", "video_id": "v", "watch_ms": 1}"#
        let decoded = try event(line)
        #expect(decoded.fields[0] == .string("u"))
    }

    @Test func decodesStringEscapes() throws {
        #expect(fieldValue("country", #""a\"b\\c\/d\b\f\n\r\t""#) == .string("a\"b\\c/d\u{8}\u{C}\n\r\t"))
        #expect(fieldValue("country", #""caf\u00e9 \u00E9""#) == .string("café é"))
        #expect(fieldValue("country", #""\ud83d\ude00!""#) == .string("😀!"))
        #expect(fieldValue("country", "\"naïve 日本 😀\"") == .string("naïve 日本 😀"))
        #expect(fieldValue("country", #""""#) == .string(""))
    }

    @Test func decodesEscapedKeysAndTypes() throws {
        let decoded = try event(#"{"t\u0079pe": "vi\u0065w", "ts": 0, "user\u005fid": "u", "video_id": "v", "watch_ms": 1}"#)
        #expect(decoded.fields[0] == .string("u"))
    }

    @Test func decodesIntegers() {
        #expect(fieldValue("watch_ms", "0") == .int(0))
        #expect(fieldValue("watch_ms", "-0") == .int(0))
        #expect(fieldValue("watch_ms", "9223372036854775807") == .int(.max))
        #expect(fieldValue("watch_ms", "-9223372036854775808") == .int(.min))
    }

    @Test func decodesFloats() {
        #expect(fieldValue("score", "1") == .float(1))
        #expect(fieldValue("score", "0.1") == .float(0.1))
        #expect(fieldValue("score", "-2.5E+3") == .float(-2500))
        #expect(fieldValue("score", "1e-400") == .float(0))
        #expect(fieldValue("score", "12345678901234567890") == .float(12_345_678_901_234_567_168))
        #expect(fieldValue("score", "2.2250738585072014e-308") == .float(2.2250738585072014e-308))
        #expect(fieldValue("score", "0.30000000000000004") == .float(0.30000000000000004))
        #expect(fieldValue("score", "1.7976931348623157e308") == .float(.greatestFiniteMagnitude))
        guard case .float(let negativeZero) = fieldValue("score", "-0") else { Issue.record("not a float"); return }
        #expect(negativeZero == 0 && negativeZero.sign == .minus)
    }

    @Test func floatsMatchTheStandardLibraryParser() {
        var generator = SplitMix(seed: 42)
        for _ in 0..<2000 {
            let mantissa = generator.next() % 10_000_000_000_000_000
            let exponent = Int(generator.next() % 60) - 30
            let fraction = generator.next() % 1000
            let text = "\(mantissa).\(fraction)e\(exponent)"
            #expect(fieldValue("score", text) == .float(Double(text)!), "\(text)")
        }
    }

    @Test func plainNumbersOfEveryLengthMatchTheStandardLibraryParser() {
        var generator = SplitMix(seed: 3)
        for digits in 1...20 {
            for _ in 0..<50 {
                var text = String(generator.next() % 9 + 1)
                for _ in 1..<digits { text += String(generator.next() % 10) }
                let integer = (generator.next() % 2 == 0 ? "-" : "") + text
                if let value = Int64(integer) {
                    #expect(fieldValue("watch_ms", integer) == .int(value), "\(integer)")
                } else {
                    #expect(fieldError("watch_ms", integer) == "field watch_ms: expected int, got \(integer) (out of 64-bit range)")
                }
                let point = Int(generator.next() % UInt64(digits + 1))
                let decimal = point == 0 ? "0." + text : text.prefix(point) + "." + (point == digits ? "5" : text.dropFirst(point))
                for number in [integer, decimal, "-" + decimal] {
                    #expect(fieldValue("score", number) == .float(Double(number)!), "\(number)")
                }
                let vector = [integer, decimal, "-" + decimal]
                #expect(fieldValue("embedding", "[\(vector.joined(separator: ","))]") == .vector(vector.map { Float(Double($0)!) }))
            }
        }
    }

    /// The scanner's double of `text`, one JSON number.
    private func scannedDouble(_ text: String) throws -> Double {
        try Array(text.utf8).withUnsafeBytes { bytes in
            var scanner = JSONScanner(bytes)
            return try scanner.scanDouble()
        }
    }

    @Test func doublesAsJSONWritersPrintThemReadBackExactly() throws {
        var generator = SplitMix(seed: 77)
        var checked = 0
        while checked < 100_000 {
            // Random bit patterns cover every magnitude; values in [0, 1) are what embeddings hold.
            let value = checked % 2 == 0 ? Double(bitPattern: generator.next()) : Double(generator.next() >> 11) / Double(1 << 53)
            guard value.isFinite else { continue }
            checked += 1
            for text in ["\(value)", String(format: "%.17g", value), String(format: "%.16e", value)] {
                let scanned = try scannedDouble(text)
                #expect(scanned.bitPattern == value.bitPattern, "\(text)")
            }
        }
    }

    @Test func longDecimalsMatchTheStandardLibraryParser() throws {
        var generator = SplitMix(seed: 78)
        for _ in 0..<100_000 {
            let digits = Int(generator.next() % 6) + 14
            var text = String(generator.next() % 9 + 1)
            for _ in 1..<digits { text += String(generator.next() % 10) }
            // Near halfway cases: a run of zeros or nines after the first 16 digits.
            if generator.next() % 4 == 0, digits > 17 {
                let filler: Character = generator.next() % 2 == 0 ? "0" : "9"
                text = String(text.prefix(16)) + String(repeating: filler, count: digits - 17) + String(text.last!)
            }
            let point = Int(generator.next() % UInt64(digits))
            let mantissa = point == 0 ? text : text.prefix(point) + "." + text.dropFirst(point)
            let number = mantissa + "e\(Int(generator.next() % 700) - 350)"
            let scanned = try scannedDouble(number)
            #expect(scanned.bitPattern == Double(number)!.bitPattern, "\(number)")
        }
    }

    @Test func refusesMalformedNumbersInTypedFields() {
        for text in ["01", "-01", "00.5", "1.", ".5", "-", "+1", "1e", "1.5.2", "1-2", "0x10"] {
            for name in ["watch_ms", "score"] {
                if case .success(let event) = field(name, text) {
                    Issue.record("\(name): \(text) read as \(event.fields)")
                }
            }
            if case .success(let event) = field("embedding", "[1, \(text), 2]") {
                Issue.record("embedding: [1, \(text), 2] read as \(event.fields)")
            }
        }
        #expect(fieldError("watch_ms", "1.5") == "field watch_ms: expected int, got 1.5")
        #expect(fieldError("watch_ms", "1e3") == "field watch_ms: expected int, got 1e3")
        #expect(fieldValue("score", "1e3") == .float(1000))
        #expect(fieldValue("score", "-0.0") == .float(-0.0))
    }

    @Test func stringsOfEveryLengthAroundEscapesAndControlCharacters() throws {
        for length in 0...40 {
            let plain = String((0..<length).map { Character(Unicode.Scalar(UInt8(ascii: "a") + UInt8($0 % 26))) })
            #expect(fieldValue("user_id", "\"\(plain)\"") == .string(plain), "\(length)")
            for position in 0..<max(length, 1) {
                var escaped = Array(plain)
                var expected = Array(plain)
                if position < length {
                    escaped[position] = "\u{1}"
                    expected[position] = "\""
                }
                let withQuote = String(escaped).replacingOccurrences(of: "\u{1}", with: "\\\"")
                #expect(fieldValue("user_id", "\"\(withQuote)\"") == .string(String(expected)), "\(withQuote)")
                let withControl = String(escaped).replacingOccurrences(of: "\u{1}", with: "\t")
                if position < length {
                    #expect(fieldError("user_id", "\"\(withControl)\"")?.hasSuffix("control character in string") == true, "\(length) \(position)")
                }
            }
        }
    }

    @Test func decodesBooleansAndVectors() {
        #expect(fieldValue("liked", "false") == .bool(false))
        #expect(fieldValue("embedding", "[0, 0.5, -1e-2]") == .vector([0, 0.5, -0.01]))
        #expect(fieldValue("embedding", "[ 1 , 2 , 3 ]") == .vector([1, 2, 3]))
    }

    @Test func decodesEpochAndRFC3339Times() {
        let cases: [(String, Int64)] = [
            ("0", 0),
            ("-1000", -1000),
            (#""1970-01-01T00:00:00Z""#, 0),
            (#""2025-11-23T12:30:00Z""#, 1_763_901_000_000),
            (#""2025-11-23t12:30:00z""#, 1_763_901_000_000),
            (#""2025-11-23T12:30:00.5Z""#, 1_763_901_000_500),
            (#""2025-11-23T12:30:00.123456789Z""#, 1_763_901_000_123),
            (#""2025-11-23T13:30:00+01:00""#, 1_763_901_000_000),
            (#""2025-11-23T07:00:00.25-05:30""#, 1_763_901_000_250),
            (#""2025-11-23T12:30:00-00:00""#, 1_763_901_000_000),
            (#""2024-02-29T00:00:00Z""#, 1_709_164_800_000),
            (#""2000-02-29T00:00:00Z""#, 951_782_400_000),
            (#""1969-12-31T23:59:59.999Z""#, -1),
            (#""2016-12-31T23:59:60Z""#, 1_483_228_800_000),
            (#""2025-11-23T12:30:00\u005A""#, 1_763_901_000_000),
        ]
        for (json, expected) in cases {
            let result = decode("{\"type\": \"view\", \"ts\": \(json), \"user_id\": \"u\", \"video_id\": \"v\", \"watch_ms\": 1}")
            switch result {
            case .success(let event): #expect(event.time == expected, "\(json)")
            case .failure(let error): Issue.record("\(json): \(error.message)")
            }
        }
    }

    @Test func sequenceIsOptionalWithoutProducerButValidated() throws {
        #expect(try event(Fixtures.viewLine(seq: 9)).sequence == 0)
        #expect(try event(Fixtures.viewLine()).sequence == 0)
        #expect(try event(Fixtures.viewLine(seq: 9), expectsSequence: true).sequence == 9)
        #expect(error(Fixtures.viewLine(seq: 0))?.message == "field seq: expected a positive integer, got 0")
    }

    // MARK: Bad lines

    @Test func refusesNonObjects() {
        for line in ["", "   ", "[1, 2]", "\"view\"", "42", "null", "hello world", "\u{0}{}"] {
            #expect(error(line)?.message == "not a JSON object", "\(line.debugDescription)")
        }
    }

    @Test func refusesBinaryGarbageAndInvalidUTF8() {
        #expect(error(of: decodeBytes([0xFF, 0xFE, 0x00, 0x01]))?.message == "invalid UTF-8 at byte 1")
        let valid = Array(#"{"type": "view", "user_id": "#.utf8)
        #expect(error(of: decodeBytes(valid + [0x22, 0xC3, 0x28, 0x22, 0x7D]))?.message == "invalid UTF-8 at byte \(valid.count + 2)")
        // Overlong encoding of "/", an encoded surrogate, a code point past U+10FFFF, a truncated sequence.
        for bad: [UInt8] in [[0xC0, 0xAF], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xE2, 0x82]] {
            #expect(error(of: decodeBytes(valid + [0x22] + bad + [0x22, 0x7D]))?.code == .invalidUTF8)
        }
        // Invalid UTF-8 in an ignored field is refused too.
        let ignored = Array(#"{"type": "click", "user_id": "u", "x": ""#.utf8) + [0x80] + Array("\"}".utf8)
        #expect(error(of: decodeBytes(ignored))?.code == .invalidUTF8)
        var generator = SplitMix(seed: 7)
        for _ in 0..<500 {
            let garbage = (0..<Int(generator.next() % 64)).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
            _ = decodeBytes(garbage)
            _ = decodeBytes(Array("{\"type\": \"view\", ".utf8) + garbage)
        }
    }

    @Test func refusesNULAndControlCharacters() {
        #expect(error("{\"type\": \"click\", \"user_id\": \"a\u{0}b\"}")?.code == .malformedJSON)
        #expect(error("{\"type\": \"click\", \"user_id\": \"a\nb\"}")?.message == "invalid JSON at byte 32: control character in string")
        #expect(error("{\"type\": \"click\",\u{0} \"user_id\": \"u\"}")?.code == .malformedJSON)
    }

    @Test func refusesMalformedJSON() {
        let lines = [
            #"{"type": "click", "user_id": "u""#,
            #"{"type": "click", "user_id": "u",}"#,
            #"{"type": "click" "user_id": "u"}"#,
            #"{"type": "click", "user_id" "u"}"#,
            #"{"type": "click", "user_id": "u"} x"#,
            #"{"type": "click", "user_id": "u"}{}"#,
            #"{"type": "click", "user_id": "u}"#,
            #"{"type": "click", "user_id": "\x"}"#,
            #"{"type": "click", "user_id": "\u12"}"#,
            #"{"type": "click", "user_id": "\ud800"}"#,
            #"{"type": "click", "user_id": "\udc00\ud800"}"#,
            #"{"type": "click", "user_id": "u", "x": 01}"#,
            #"{"type": "click", "user_id": "u", "x": 1.}"#,
            #"{"type": "click", "user_id": "u", "x": .5}"#,
            #"{"type": "click", "user_id": "u", "x": +1}"#,
            #"{"type": "click", "user_id": "u", "x": 1e}"#,
            #"{"type": "click", "user_id": "u", "x": tru}"#,
            #"{"type": "click", "user_id": "u", "x": NaN}"#,
            #"{"type": "click", "user_id": "u", "x": [1,]}"#,
            #"{"type": "click", "user_id": "u", "x": {"a" 1}}"#,
            #"{"type": "click", "user_id": "u", "x": [1}"#,
            #"{'type': 'click'}"#,
            #"{type: "click"}"#,
        ]
        for line in lines {
            #expect(error(line)?.code == .malformedJSON, "\(line)")
        }
        #expect(error(#"{"type": "click", "user_id": "u""#)?.message == "invalid JSON: unexpected end of line, expected ',' or '}'")
    }

    @Test func refusesNestingPastTheLimitWithoutRecursion() {
        let tooDeep = "{\"type\": \"click\", \"user_id\": \"u\", \"x\": " + String(repeating: "[", count: 65) + String(repeating: "]", count: 65) + "}"
        #expect(error(tooDeep)?.message.hasSuffix("nested deeper than 64 levels") == true)
        let huge = "{\"type\": \"click\", \"user_id\": \"u\", \"x\": " + String(repeating: "[{\"a\":", count: 200_000)
        #expect(error(huge)?.code == .malformedJSON)
        let hugeFirst = "{\"x\": " + String(repeating: "[", count: 1_000_000) + ", \"type\": \"click\"}"
        #expect(error(hugeFirst)?.code == .malformedJSON)
    }

    @Test func refusesUnknownOrMissingTypes() {
        #expect(error(#"{"type": "vew", "user_id": "u"}"#)?.message == #"unknown event type "vew""#)
        #expect(error(#"{"user_id": "u"}"#)?.message == "missing field type")
        #expect(error("{}")?.message == "missing field type")
        #expect(error(#"{"type": 5, "user_id": "u"}"#)?.message == "field type: expected string, got 5")
        #expect(error(#"{"type": null}"#)?.message == "field type: expected string, got null")
        #expect(error(#"{"type": "VIEW"}"#)?.code == .unknownEventType)
    }

    @Test func refusesMissingFields() {
        #expect(error(#"{"type": "view", "ts": 0, "video_id": "v", "watch_ms": 1}"#)?.message == "missing field user_id")
        #expect(error(#"{"type": "view", "user_id": "u", "video_id": "v", "watch_ms": 1}"#)?.message == "missing field ts")
        #expect(error(Fixtures.viewLine(), expectsSequence: true)?.message == "missing field seq")
        #expect(fieldError("user_id", "null") == "field user_id: expected string, got null")
    }

    @Test func refusesMistypedFields() {
        #expect(fieldError("watch_ms", #""abc""#) == #"field watch_ms: expected int, got "abc""#)
        #expect(fieldError("watch_ms", "1.0") == "field watch_ms: expected int, got 1.0")
        #expect(fieldError("watch_ms", "1e3") == "field watch_ms: expected int, got 1e3")
        #expect(fieldError("watch_ms", "99999999999999999999") == "field watch_ms: expected int, got 99999999999999999999 (out of 64-bit range)")
        #expect(fieldError("watch_ms", "9223372036854775808") == "field watch_ms: expected int, got 9223372036854775808 (out of 64-bit range)")
        #expect(fieldError("watch_ms", "true") == "field watch_ms: expected int, got true")
        #expect(fieldError("watch_ms", "[1]") == "field watch_ms: expected int, got an array")
        #expect(fieldError("watch_ms", #"{"a": 1}"#) == "field watch_ms: expected int, got an object")
        #expect(fieldError("score", "1e400") == "field score: expected float, got 1e400 (out of range)")
        #expect(fieldError("score", "-1e400") == "field score: expected float, got -1e400 (out of range)")
        #expect(fieldError("score", #""1.5""#) == #"field score: expected float, got "1.5""#)
        #expect(fieldError("liked", #""true""#) == #"field liked: expected bool, got "true""#)
        #expect(fieldError("liked", "1") == "field liked: expected bool, got 1")
        #expect(fieldError("user_id", "12") == "field user_id: expected string, got 12")
        let long = String(repeating: "x", count: 100)
        #expect(fieldError("watch_ms", "\"\(long)\"") == "field watch_ms: expected int, got \"\(String(repeating: "x", count: 39))…")
    }

    @Test func refusesBadVectors() {
        #expect(fieldError("embedding", "[1, 2]") == "field embedding: expected vector[3], got 2 numbers")
        #expect(fieldError("embedding", "[]") == "field embedding: expected vector[3], got 0 numbers")
        #expect(fieldError("embedding", "[1, 2, 3, 4]") == "field embedding: expected vector[3], got more than 3 numbers")
        #expect(fieldError("embedding", #"[1, "2", 3]"#) == #"field embedding: expected vector[3] of numbers, got "2" at index 1"#)
        #expect(fieldError("embedding", "[1, 2, 1e39]") == "field embedding: 1e39 at index 2 is out of float32 range")
        #expect(fieldError("embedding", "[1, [2], 3]") == "field embedding: expected vector[3] of numbers, got an array at index 1")
        #expect(fieldError("embedding", "3") == "field embedding: expected vector[3], got 3")
    }

    @Test func refusesBadTimes() {
        let bad = [
            #""2023-02-29T00:00:00Z""#, #""1900-02-29T00:00:00Z""#, #""2025-13-01T00:00:00Z""#,
            #""2025-00-01T00:00:00Z""#, #""2025-04-31T00:00:00Z""#, #""2025-01-00T00:00:00Z""#,
            #""2025-01-01T24:00:00Z""#, #""2025-01-01T00:60:00Z""#, #""2025-01-01T00:00:61Z""#,
            #""2025-01-01 00:00:00Z""#, #""2025-01-01T00:00:00""#, #""2025-01-01T00:00:00+1:00""#,
            #""2025-01-01T00:00:00+01""#, #""2025-01-01T00:00:00+24:00""#, #""2025-01-01T00:00:00.Z""#,
            #""2025-01-01T00:00:00Zjunk""#, #""2025-1-01T00:00:00Z""#, #""25-01-01T00:00:00Z""#,
            #""2025-01-01""#, #""1763900000000""#, #""""#, "1763900000000.5", "1e12", "true", "null", "[]",
            "99999999999999999999",
        ]
        for json in bad {
            let result = decode("{\"type\": \"view\", \"ts\": \(json), \"user_id\": \"u\", \"video_id\": \"v\", \"watch_ms\": 1}")
            #expect(error(of: result)?.message.hasPrefix("field ts: expected epoch ms or RFC 3339 time, got ") == true, "\(json)")
        }
    }

    @Test func refusesBadSequences() {
        for json in ["0", "-1", "1.5", "1e2", #""5""#, "null", "99999999999999999999"] {
            let line = "{\"type\": \"click\", \"seq\": \(json), \"user_id\": \"u\"}"
            #expect(error(line, expectsSequence: true)?.message == "field seq: expected a positive integer, got \(json)")
        }
    }

    @Test func refusesDuplicateAndReservedKeys() {
        #expect(error(#"{"type": "click", "user_id": "u", "user_id": "v"}"#)?.message == "duplicate key user_id")
        #expect(error(#"{"type": "click", "type": "click", "user_id": "u"}"#)?.message == "duplicate key type")
        #expect(error(#"{"type": "click", "user_id": "u", "producer": "p"}"#)?.code == .reservedKey)
        #expect(error(#"{"producer": "p"}"#)?.message == "key producer is reserved (a hello is only valid as the first line)")
    }

    @Test func scannerSkipsValuesIteratively() throws {
        let text = Array(#"[{"a": [1, {"b": "c\"]"}]}, true, -0.5e+7] "#.utf8)
        try text.withUnsafeBytes { bytes in
            var scanner = JSONScanner(bytes)
            try scanner.skipValue()
            let isAtEnd = scanner.isAtEndAfterWhitespace()
            #expect(isAtEnd)
        }
    }
}

/// A small seeded generator for reproducible random inputs.
struct SplitMix {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var value = state
        value = (value ^ (value >> 30)) &* 0xBF58_476D_1CE4_E5B9
        value = (value ^ (value >> 27)) &* 0x94D0_49BB_1331_11EB
        return value ^ (value >> 31)
    }
}
