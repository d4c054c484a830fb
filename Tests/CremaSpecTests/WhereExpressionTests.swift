import CremaAggregation
import Testing

@testable import CremaSpec

/// Parsing, type-checking and evaluating `where` expressions.
@Suite struct WhereExpressionTests {
    /// Parses `text`, recording an issue when it fails.
    func parse(_ text: String) -> ExpressionSyntax? {
        switch ExpressionParser.parse(text) {
        case .success(let syntax): return syntax
        case .failure(let error):
            Issue.record("\(text): \(error.message) at \(error.offset)")
            return nil
        }
    }

    @Test func precedenceIsNotThenAndThenOr() throws {
        let syntax = try #require(parse("a or not b and c"))
        #expect(PredicateCompiler.canonical(syntax) == "(a or ((not b) and c))")
        let grouped = try #require(parse("(a or b) and not (c or d)"))
        #expect(PredicateCompiler.canonical(grouped) == "((a or b) and (not (c or d)))")
    }

    @Test func comparisonsInAndNull() throws {
        let syntax = try #require(parse("x >= -1.5 and y in ['a', \"b\"] or z != null"))
        #expect(PredicateCompiler.canonical(syntax) == "(((x >= -1.5) and (y in [\"a\",\"b\"])) or (z != null))")
    }

    @Test func syntaxErrorsPointInsideTheExpression() {
        for (text, offset) in [("a >", 3), ("(a", 2), ("a b", 2), ("3 < a", 0), ("a in (1)", 5), ("a == 'x", 5), ("", 0), ("a in []", 6)] {
            guard case .failure(let error) = ExpressionParser.parse(text) else {
                Issue.record("\(text) parsed")
                continue
            }
            #expect(error.offset == offset, "\(text): \(error.message)")
        }
    }

    /// The predicate of the group-level `where` of a one-event spec.
    func predicate(_ expression: String) throws -> Predicate? {
        let yaml = baseSpec.replacingOccurrences(of: "    aggregates:", with: "    where: \"\(expression)\"\n    aggregates:")
            + "      views: { op: count }\n"
        return try compiledSpec(yaml)?.groups.first?.filter
    }

    /// Field values of the base spec's `view` event.
    func event(watch: Int64 = 100, score: FieldValue = .null, liked: Bool = false, title: String = "b") -> [FieldValue] {
        [.string("u1"), .string("v1"), .int(watch), score, .bool(liked), .string(title), .vector([0, 0, 0, 0])]
    }

    @Test func evaluation() throws {
        let filter = try #require(try predicate("liked and watch_ms > 50 or title in ['x', 'y']"))
        #expect(filter.evaluate(event(liked: true)))
        #expect(!filter.evaluate(event(watch: 10, liked: true)))
        #expect(filter.evaluate(event(watch: 0, title: "y")))
        #expect(!filter.evaluate(event(watch: 100, liked: false)))
    }

    @Test func nullComparisons() throws {
        let isNull = try #require(try predicate("score == null"))
        #expect(isNull.evaluate(event()))
        #expect(!isNull.evaluate(event(score: .float(1))))
        let notNull = try #require(try predicate("score != null"))
        #expect(notNull.evaluate(event(score: .float(1))))
        let greater = try #require(try predicate("score > 0"))
        #expect(!greater.evaluate(event()))
        let notEqual = try #require(try predicate("score != 1"))
        #expect(!notEqual.evaluate(event()), "any comparison other than == null / != null with a null field is false")
        #expect(try #require(try predicate("not (score > 0)")).evaluate(event()))
    }

    @Test func numbersStringsAndBoolsCompare() throws {
        #expect(try #require(try predicate("score >= 2")).evaluate(event(score: .float(2.0))))
        #expect(try #require(try predicate("watch_ms < 100.5")).evaluate(event(watch: 100)))
        #expect(try #require(try predicate("watch_ms == 100.0")).evaluate(event(watch: 100)))
        #expect(try #require(try predicate("title < 'é'")).evaluate(event(title: "z")))
        #expect(!(try #require(try predicate("title >= 'é'")).evaluate(event(title: "z"))))
        #expect(try #require(try predicate("liked > false")).evaluate(event(liked: true)))
        #expect(try #require(try predicate("watch_ms in [1, 100]")).evaluate(event(watch: 100)))
    }

    @Test func compiledFieldIndices() throws {
        let filter = try #require(try predicate("liked and not watch_ms <= 3"))
        #expect(filter == .and(.isTrue(field: 4), .not(.compare(field: 2, .lessOrEqual, .int(3)))))
    }
}
