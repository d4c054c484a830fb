import Testing

@testable import CremaSpec

/// Resolving served feature names, entities and events.
@Suite struct FeatureLookupTests {
    @Test func resolvesWindowedAndLifetimeFeatures() throws {
        let spec = try #require(try compiledSpec(specWithAggregates(
            "views: { op: count, windows: [1h, 90m, 7d] }",
            "hot: { op: decayed_count, half_life: 1h }"
        )))
        #expect(spec.summary == "1 group, 4 features")
        let windowed = try #require(spec.feature(named: "stats.views_90m"))
        #expect(windowed.group.name == "stats" && windowed.aggregate.name == "views" && windowed.featureIndex == 1)
        #expect(windowed.aggregate.windows[1].name == "90m" && windowed.aggregate.windows[1].length == 5_400_000)
        #expect(spec.feature(named: "stats.hot")?.featureIndex == 0)
        #expect(spec.feature(named: "stats.views") == nil)
        #expect(spec.feature(named: "stats.views_2d") == nil)
        #expect(spec.feature(named: "other.views_1h") == nil)
        #expect(spec.feature(named: "views_1h") == nil)
        #expect(spec.entity(named: "video")?.keyFields == ["video_id"])
        #expect(spec.entity(named: "nobody") == nil)
        #expect(spec.event(named: "view")?.fields.count == 7)
    }
}
