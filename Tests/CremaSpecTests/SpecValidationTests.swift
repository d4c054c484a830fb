import Testing

@testable import CremaSpec

/// Each validation error is reported at its exact line and path, with a message that teaches.
@Suite struct SpecValidationTests {
    @Test func baseSpecCompiles() throws {
        let spec = try compiledSpec(specWithAggregates("views: { op: count, windows: [1d] }"))
        #expect(spec?.summary == "1 group, 1 feature")
    }

    @Test func unknownTopLevelKeySuggestsTheClosest() throws {
        try expectSpecError(baseSpec + "featurs: {}\n", line: 20, column: 1, path: "featurs", message: "did you mean `features`?")
    }

    @Test func unknownGroupKeySuggestsTheClosest() throws {
        let yaml = baseSpec.replacingOccurrences(of: "    from: view", with: "    form: view")
        let errors = try specErrors(yaml)
        #expect(errors.contains { $0.line == 18 && $0.path == "features.stats.form" && $0.message.contains("did you mean `from`?") })
    }

    @Test func unknownAggregateKeySuggestsTheClosest() throws {
        try expectSpecError(specWithAggregates("views: { op: count, windos: [1d] }"), line: 20, column: 27,
                            path: "features.stats.aggregates.views.windos", message: "did you mean `windows`?")
    }

    @Test func unknownOpListsTheValidOnes() throws {
        try expectSpecError(specWithAggregates("views: { op: cont }"), line: 20, column: 20,
                            path: "features.stats.aggregates.views.op", message: "did you mean `count`?")
        try expectSpecError(specWithAggregates("views: { op: median, field: watch_ms }"), line: 20,
                            path: "features.stats.aggregates.views.op", message: "approx_quantile")
    }

    @Test func unknownFieldSuggestsTheClosest() throws {
        try expectSpecError(specWithAggregates("", "total: { op: sum, field: watch_sm }"), line: 21,
                            path: "features.stats.aggregates.total.field", message: "did you mean `watch_ms`?")
    }

    @Test func unknownEntityAndEventSuggestTheClosest() throws {
        var yaml = baseSpec.replacingOccurrences(of: "entity: video", with: "entity: vidoe")
        yaml = yaml.replacingOccurrences(of: "from: view", with: "from: veiw") + "      views: { op: count }\n"
        try expectSpecError(yaml, line: 17, path: "features.stats.entity", message: "did you mean `video`?")
        try expectSpecError(yaml, line: 18, path: "features.stats.from", message: "did you mean `view`?")
    }

    @Test func unknownFieldTypeIsReported() throws {
        let yaml = baseSpec.replacingOccurrences(of: "watch_ms: int", with: "watch_ms: integr") + "      views: { op: count }\n"
        try expectSpecError(yaml, line: 7, path: "events.view.fields.watch_ms", message: "unknown type `integr`")
    }

    @Test func opOnTheWrongFieldType() throws {
        try expectSpecError(specWithAggregates("total: { op: sum, field: title }"), line: 20,
                            path: "features.stats.aggregates.total.field", message: "sum takes int or float fields, but `title` is string")
        try expectSpecError(specWithAggregates("views: { op: count }", "low: { op: min, field: embedding }"), line: 21,
                            path: "features.stats.aggregates.low.field", message: "`embedding` is vector[4]")
        try expectSpecError(specWithAggregates("q: { op: approx_quantile, field: liked, quantiles: [0.5] }"), line: 20,
                            path: "features.stats.aggregates.q.field", message: "`liked` is bool")
    }

    @Test func badWindows() throws {
        let path = "features.stats.aggregates.views.windows"
        try expectSpecError(specWithAggregates("views: { op: count, windows: [1d, 7x] }"), line: 20, column: 41,
                            path: path + "[1]", message: "unknown unit `x`")
        try expectSpecError(specWithAggregates("views: { op: count, windows: [0d] }"), line: 20, path: path + "[0]", message: "is zero")
        try expectSpecError(specWithAggregates("views: { op: count, windows: [-1h] }"), line: 20, path: path + "[0]", message: "is negative")
        try expectSpecError(specWithAggregates("views: { op: count, windows: [7] }"), line: 20, path: path + "[0]", message: "has no unit")
        try expectSpecError(specWithAggregates("views: { op: count, windows: 7d }"), line: 20, path: path, message: "is a list of durations")
        try expectSpecError(specWithAggregates("views: { op: count, windows: [] }"), line: 20, path: path, message: "`windows` is empty")
        try expectSpecError(specWithAggregates("views: { op: count, windows: [{ a: 1 }] }"), line: 20, path: path + "[0]", message: "expected a duration")
        try expectSpecError(specWithAggregates("views: { op: count, windows: [1d, 24h] }"), line: 20, path: path + "[1]", message: "repeats `1d`")
    }

    @Test func badDurationInTTLAndHalfLife() throws {
        let yaml = baseSpec.replacingOccurrences(of: "    aggregates:", with: "    ttl: 30 days\n    aggregates:") + "      t: { op: decayed_count, half_life: 0s }\n"
        try expectSpecError(yaml, line: 19, path: "features.stats.ttl", message: "`30 days` is not a duration")
        try expectSpecError(yaml, line: 21, path: "features.stats.aggregates.t.half_life", message: "is zero")
    }

    @Test func hopMustDivideEveryWindow() throws {
        try expectSpecError(specWithAggregates("views: { op: count, windows: [1h, 90m], hop: 1h }"), line: 20, column: 41,
                            path: "features.stats.aggregates.views.windows[1]", message: "not a multiple of the hop `1h`; pick a hop that divides every window, like `30m`")
        let defaultHop = try SpecCompiler.compile(sources: [(file: "spec.yaml", text: specWithAggregates("views: { op: count, windows: [7m, 1m] }"))]).get()
        #expect(defaultHop.groups[0].aggregates[0].windows.map(\.hop) == [300_000, 300_000])
        try expectSpecError(specWithAggregates("views: { op: count, hop: 1h }"), line: 20,
                            path: "features.stats.aggregates.views.hop", message: "`hop` needs `windows`")
    }

    @Test func windowsOnOpsThatTakeNone() throws {
        try expectSpecError(specWithAggregates("recent: { op: last_n, field: video_id, n: 5, windows: [1d] }"), line: 20,
                            path: "features.stats.aggregates.recent.windows", message: "last_n takes no windows")
        try expectSpecError(specWithAggregates("hot: { op: decayed_count, half_life: 1h, hop: 1h }"), line: 20,
                            path: "features.stats.aggregates.hot.hop", message: "decayed_count takes no windows")
    }

    @Test func optionsThatDoNotApply() throws {
        try expectSpecError(specWithAggregates("total: { op: sum, field: watch_ms, k: 3 }"), line: 20,
                            path: "features.stats.aggregates.total.k", message: "`k` does not apply to sum; it is an option of `top_k`")
    }

    @Test func missingRequiredOptions() throws {
        try expectSpecError(specWithAggregates("top: { op: top_k, field: title }"), line: 20,
                            path: "features.stats.aggregates.top", message: "top_k needs `k`")
        try expectSpecError(specWithAggregates("total: { op: sum }"), line: 20,
                            path: "features.stats.aggregates.total", message: "sum needs `field`")
        try expectSpecError(specWithAggregates("hot: { op: decayed_sum, field: watch_ms }"), line: 20,
                            path: "features.stats.aggregates.hot", message: "decayed_sum needs `half_life`")
        try expectSpecError(specWithAggregates("views: { windows: [1d] }"), line: 20,
                            path: "features.stats.aggregates.views", message: "has no `op`")
    }

    @Test func nonPositiveCounts() throws {
        try expectSpecError(specWithAggregates("top: { op: top_k, field: title, k: 0 }"), line: 20,
                            path: "features.stats.aggregates.top.k", message: "`k` must be positive; got 0")
        try expectSpecError(specWithAggregates("recent: { op: last_n, field: title, n: -3 }"), line: 20,
                            path: "features.stats.aggregates.recent.n", message: "`n` must be positive; got -3")
        try expectSpecError(specWithAggregates("mix: { op: histogram, field: title, capacity: 0 }"), line: 20,
                            path: "features.stats.aggregates.mix.capacity", message: "`capacity` must be positive")
        try expectSpecError(specWithAggregates("top: { op: top_k, field: title, k: many }"), line: 20,
                            path: "features.stats.aggregates.top.k", message: "must be a positive integer")
    }

    @Test func badQuantiles() throws {
        try expectSpecError(specWithAggregates("q: { op: approx_quantile, field: watch_ms, quantiles: [0.5, 99] }"), line: 20,
                            path: "features.stats.aggregates.q.quantiles[1]", message: "outside (0, 1)")
        try expectSpecError(specWithAggregates("q: { op: approx_quantile, field: watch_ms, quantiles: [1] }"), line: 20,
                            path: "features.stats.aggregates.q.quantiles[0]", message: "outside (0, 1)")
        try expectSpecError(specWithAggregates("q: { op: approx_quantile, field: watch_ms, quantiles: [] }"), line: 20,
                            path: "features.stats.aggregates.q.quantiles", message: "`quantiles` is empty")
    }

    @Test func badWhereExpressions() throws {
        let path = "features.stats.aggregates.views.where"
        try expectSpecError(specWithAggregates("views: { op: count, where: 'watch_ms >' }"), line: 20, column: 45,
                            path: path, message: "expected a value")
        try expectSpecError(specWithAggregates("views: { op: count, where: 'watch_time > 0' }"), line: 20, column: 35,
                            path: path, message: "unknown field `watch_time`")
        try expectSpecError(specWithAggregates("views: { op: count, where: \"title > 3\" }"), line: 20, column: 43,
                            path: path, message: "`title` is string but is compared with the number 3")
        try expectSpecError(specWithAggregates("views:", "  op: count", "  where: watch_ms == 'long'"), line: 22, column: 28,
                            path: path, message: "`watch_ms` is int but is compared with the string 'long'")
        try expectSpecError(specWithAggregates("views:", "  op: count", "  where: watch_ms"), line: 22, column: 16,
                            path: path, message: "only a bool field stands alone")
        try expectSpecError(specWithAggregates("views:", "  op: count", "  where: liked and (watch_ms > 0"), line: 22,
                            path: path, message: "expected `)`")
        try expectSpecError(specWithAggregates("views:", "  op: count", "  where: score < null"), line: 22,
                            path: path, message: "`null` compares only with `==` or `!=`")
    }

    @Test func nullIsNotAListValue() throws {
        try expectSpecError(specWithAggregates("views:", "  op: count", "  where: title in ['a', null]"), line: 22, column: 31,
                            path: "features.stats.aggregates.views.where", message: "`null` cannot be in an `in` list")
    }

    @Test func compositeKeysResolveToFieldIndices() throws {
        let yaml = baseSpec.replacingOccurrences(of: "  video: { key: video_id }", with: "  video: { key: [video_id, watch_ms] }")
        let spec = try #require(try compiledSpec(yaml + "      views: { op: count }\n"))
        #expect(spec.groups[0].keyFieldIndices == [1, 2])
        #expect(spec.entity(named: "video")?.isComposite == true)
    }

    @Test func badGroupWhere() throws {
        let yaml = baseSpec.replacingOccurrences(of: "    aggregates:", with: "    where: watch_ms = 3\n    aggregates:") + "      views: { op: count }\n"
        try expectSpecError(yaml, line: 19, column: 21, path: "features.stats.where", message: "compare with `==`")
    }

    @Test func yamlSyntaxErrorKeepsYamsLine() throws {
        let yaml = specWithAggregates("views: { op: count, windows: [1d }")
        let errors = try specErrors(yaml)
        #expect(errors.count == 1)
        #expect(errors.first?.line == 20)
        #expect(errors.first?.message.contains("YAML syntax error") == true)
    }

    @Test func yamlDuplicateKeysAreReportedAtTheSecondOne() throws {
        try expectSpecError(specWithAggregates("views: { op: count }", "views: { op: count, windows: [1d] }"), line: 21, column: 7,
                            path: "features.stats.aggregates.views", message: "duplicate key `views` (first at line 20)")
        let duplicateField = baseSpec.replacingOccurrences(of: "      title: string", with: "      title: string\n      title: int")
        try expectSpecError(duplicateField + "      views: { op: count }\n", line: 11,
                            path: "events.view.fields.title", message: "duplicate key `title`")
    }

    @Test func vectorDimensionMustBePositive() throws {
        let yaml = baseSpec.replacingOccurrences(of: "vector[4]", with: "vector[0]") + "      views: { op: count }\n"
        try expectSpecError(yaml, line: 11, path: "events.view.fields.embedding", message: "dimension must be a positive integer")
    }

    @Test func entityKeyFieldsMustBeStringOrIntFieldsOfTheEvent() throws {
        var yaml = baseSpec.replacingOccurrences(of: "  video: { key: video_id }", with: "  video: { key: video_key }")
        try expectSpecError(yaml + "      views: { op: count }\n", line: 17, path: "features.stats.entity",
                            message: "keyed by `video_key`, which event `view` does not have")
        yaml = baseSpec.replacingOccurrences(of: "  video: { key: video_id }", with: "  video: { key: [video_id, score] }")
        try expectSpecError(yaml + "      views: { op: count }\n", line: 17, path: "features.stats.entity",
                            message: "is float in event `view`; entity keys are string or int fields")
    }

    @Test func featureNamesMustNotCollide() throws {
        try expectSpecError(specWithAggregates("views: { op: count, windows: [1d] }", "views_1d: { op: count }"), line: 21, column: 7,
                            path: "features.stats.aggregates.views_1d", message: "feature name `views_1d` of aggregate `views_1d` is also a feature of aggregate `views`")
    }

    @Test func reservedAndInvalidNames() throws {
        let yaml = baseSpec.replacingOccurrences(of: "      title: string", with: "      seq: int") + "      views: { op: count }\n"
        try expectSpecError(yaml, line: 10, path: "events.view.fields.seq", message: "reserved by the ingest protocol")
        try expectSpecError(specWithAggregates("views-1: { op: count }"), line: 20, path: "features.stats.aggregates.views-1", message: "not a valid name")
    }

    @Test func timeKeyIsNotAField() throws {
        let yaml = baseSpec.replacingOccurrences(of: "time: ts", with: "time: watch_ms") + "      views: { op: count }\n"
        try expectSpecError(yaml, line: 3, path: "events.view.time", message: "the time key is not a field")
    }

    @Test func everyErrorIsReportedAtOnce() throws {
        let errors = try specErrors(specWithAggregates(
            "a: { op: cont }",
            "b: { op: sum, field: title }",
            "c: { op: count, windows: [7x] }"
        ))
        #expect(errors.map(\.line) == [20, 21, 22])
        #expect(SpecErrors(errors: errors).description.split(separator: "\n").count == 3)
        #expect(errors[0].description.hasSuffix("spec.yaml:20:16: features.stats.aggregates.a.op: unknown op `cont`; did you mean `count`? (ops: `count`, `sum`, `min`, `max`, `mean`, `variance`, `first`, `last`, `last_n`, `sequence`, `top_k`, `histogram`, `approx_distinct`, `approx_quantile`, `decayed_count`, `decayed_sum`)"))
    }
}
