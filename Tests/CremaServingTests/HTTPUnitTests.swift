import CremaAggregation
import CremaEngine
import CremaStorage
import Foundation
import Testing

@testable import CremaServing

@Suite("JSON writing and routing, without sockets")
struct HTTPUnitTests {
    private func text(_ value: FeatureValue) -> String {
        var writer = JSONWriter()
        writer.value(value)
        return String(decoding: writer.bytes, as: UTF8.self)
    }

    @Test("scalars: ints at the extremes, shortest round-trip floats, NaN and infinities as null")
    func scalars() {
        #expect(text(.int(0)) == "0")
        #expect(text(.int(-7)) == "-7")
        #expect(text(.int(.max)) == "9223372036854775807")
        #expect(text(.int(.min)) == "-9223372036854775808")
        #expect(text(.float(0.1)) == "0.1")
        #expect(text(.float(1e-7)) == "1e-07")
        #expect(text(.float(.nan)) == "null")
        #expect(text(.float(-.infinity)) == "null")
        #expect(text(.vector([0.5, .nan])) == "[0.5,null]")
        #expect(text(.bool(true)) == "true")
        #expect(text(.null) == "null")
    }

    @Test("strings are escaped and read back by a JSON parser")
    func strings() throws {
        let tricky = "quote \" backslash \\ newline \n tab \t bell \u{07} é 🎧"
        let written = text(.list([.string(tricky), .object([.init("k\"", .int(1))])]))
        let parsed = try #require(try JSONSerialization.jsonObject(with: Data(written.utf8)) as? [Any])
        #expect(parsed.first as? String == tricky)
        #expect((parsed.last as? [String: Int])?["k\""] == 1)
        #expect(written.contains("\\u0007"))
    }

    @Test("durations in specs use the largest unit that divides them")
    func durations() {
        #expect(SpecDocument.durationText(300_000) == "5m")
        #expect(SpecDocument.durationText(86_400_000) == "1d")
        #expect(SpecDocument.durationText(1_500) == "1500ms")
    }

    @Test("routes: percent-decoding, 404 and 405")
    func routes() throws {
        #expect(try Route(method: .GET, uri: "/v1/features/user/a%2Fb?x=1") == .entityFeatures(entity: "user", id: "a/b"))
        #expect(throws: HTTPError.self) { try Route(method: .GET, uri: "/v1/features/user/%zz") }
        do {
            _ = try Route(method: .DELETE, uri: "/v1/features")
            Issue.record("expected a 405")
        } catch {
            #expect(error.status == .methodNotAllowed)
            #expect(error.allowedMethod == .POST)
        }
    }

    /// The ids of a parsed `POST /v1/features` body.
    private func parsedIDs(_ ids: String) throws -> EntityIDs {
        try FeatureRequestParser.parse(Array(#"{"entity": "video", "ids": \#(ids), "features": []}"#.utf8)).request.ids
    }

    @Test("ids that are all strings stay packed; any other id turns them into key parts, in order")
    func packedIDs() throws {
        guard case .texts(let texts) = try parsedIDs(#"["a", "b", "c"]"#) else { throw ParsedAs.other }
        #expect(texts == ["a", "b", "c"])
        guard case .parts(let parts) = try parsedIDs(#"["a", 7, ["US", 3], "b"]"#) else { throw ParsedAs.other }
        #expect(parts == [[.string("a")], [.int(7)], [.string("US"), .int(3)], [.string("b")]])
        guard case .texts(let none) = try parsedIDs("[]") else { throw ParsedAs.other }
        #expect(none.isEmpty)
    }

    @Test("a bad id after packed ones is named by its index", arguments: [#"["a", "b", true]"#, #"["a", 1, "b", {}]"#])
    func badIDAfterPackedOnes(ids: String) {
        let error = #expect(throws: HTTPError.self) { try parsedIDs(ids) }
        let index = ids.hasPrefix(#"["a", "b""#) ? 2 : 3
        #expect(error?.message.contains("ids[\(index)]") == true, "\(error?.message ?? "")")
    }

    private enum ParsedAs: Error { case other }
}
