// swift-tools-version: 6.1
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
]

let nio: [Target.Dependency] = [
    .product(name: "NIOCore", package: "swift-nio"),
    .product(name: "NIOPosix", package: "swift-nio"),
]

let package = Package(
    name: "crema",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "crema", targets: ["crema"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.0"),
        .package(url: "https://github.com/apple/swift-nio-http2", from: "1.46.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.5.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.1.0"),
        .package(url: "https://github.com/grpc/grpc-swift-2", from: "2.4.3"),
        .package(url: "https://github.com/grpc/grpc-swift-nio-transport", from: "2.9.2"),
        .package(url: "https://github.com/grpc/grpc-swift-protobuf", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
    ],
    targets: [
        .systemLibrary(name: "CRocksDB", pkgConfig: "rocksdb", providers: [.apt(["librocksdb-dev"])]),
        .systemLibrary(name: "CLZ4", pkgConfig: "liblz4", providers: [.apt(["liblz4-dev"])]),
        // The crema binary's allocator (see Sources/crema/Allocator.swift).
        .systemLibrary(name: "CJemalloc", pkgConfig: "jemalloc", providers: [.apt(["libjemalloc-dev"])]),
        .target(name: "CPrefetch"),
        .target(name: "CremaAggregation", dependencies: ["CPrefetch"], swiftSettings: swiftSettings),
        .target(
            name: "CremaSpec",
            dependencies: ["CremaAggregation", .product(name: "Yams", package: "Yams")],
            swiftSettings: swiftSettings
        ),
        .target(name: "CremaStorage", dependencies: ["CRocksDB", "CLZ4"], swiftSettings: swiftSettings),
        .target(
            name: "CremaEngine",
            dependencies: [
                "CremaAggregation", "CremaSpec", "CremaStorage", "CPrefetch",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "CremaIngest",
            dependencies: [
                "CremaEngine",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ] + nio,
            swiftSettings: swiftSettings
        ),
        .target(
            name: "CremaServing",
            dependencies: [
                "CremaEngine", "CremaIngest",
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOHTTP2", package: "swift-nio-http2"),
                .product(name: "NIOHPACK", package: "swift-nio-http2"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
                .product(name: "GRPCProtobuf", package: "grpc-swift-protobuf"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ] + nio,
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "crema",
            dependencies: [
                "CremaAggregation", "CremaSpec", "CremaStorage", "CremaEngine", "CremaIngest", "CremaServing", "CJemalloc",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
            ] + nio,
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "CremaAggregationTests", dependencies: ["CremaAggregation"], swiftSettings: swiftSettings),
        .testTarget(name: "CremaSpecTests", dependencies: ["CremaSpec"], swiftSettings: swiftSettings),
        .testTarget(name: "CremaStorageTests", dependencies: ["CremaStorage"], swiftSettings: swiftSettings),
        .testTarget(name: "CremaEngineTests", dependencies: ["CremaEngine"], swiftSettings: swiftSettings),
        .testTarget(name: "CremaIngestTests", dependencies: ["CremaIngest"] + nio, swiftSettings: swiftSettings),
        .testTarget(name: "CremaServingTests", dependencies: ["CremaServing"] + nio, swiftSettings: swiftSettings),
        .testTarget(name: "CremaServeTests", dependencies: ["CremaEngine"], swiftSettings: swiftSettings),
    ]
)
