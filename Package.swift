// swift-tools-version:6.2
import PackageDescription

let package = Package(
    name: "rlm-mcp",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "rlm-mcp", targets: ["rlm-mcp"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/hummingbird-project/swift-websocket.git", from: "1.6.2"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        // Telemetry: metrics API + Prometheus exposition.
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        // Telemetry: the tracing API everywhere; the OTLP exporter in the executable only. OTLP/HTTP only: the
        // gRPC trait would build grpc-swift for a transport we do not offer.
        .package(url: "https://github.com/apple/swift-distributed-tracing.git", from: "1.7.3"),
        .package(url: "https://github.com/swift-otel/swift-otel.git", from: "1.6.0", traits: ["OTLPHTTP"]),
        // Run history (History target): the embedded SQLite store.
        .package(url: "https://github.com/groue/GRDB.swift.git", exact: "7.10.0"),
        // Run history shared by replicas (RLM_DATABASE_URL=postgres://…), and the /runs viewer's templates.
        .package(url: "https://github.com/vapor/postgres-nio.git", exact: "1.33.2"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", exact: "2.1.1"),
    ],
    targets: [
        .executableTarget(
            name: "rlm-mcp",
            dependencies: [
                "RLMConfig",
                "RLMServer",
                "RLMEngine",
                "LanguageModels",
                "RLMCommon",
                "SandboxBackends",
                "Daytona",
                "Sandboxes",
                "Telemetry",
                "History",
                "RunViewer",
                .product(name: "OTel", package: "swift-otel"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "RLMServer",
            dependencies: [
                "RLMConfig",
                "RLMCommon",
                "SandboxBackends",
                "RLMEngine",
                "LanguageModels",
                "Sandboxes",
                "JSONRPCWire",
                "Telemetry",
                "RunViewer",
                "History",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .target(
            name: "RLMEngine",
            dependencies: ["RLMConfig", "Sandboxes", "LanguageModels", "RLMCommon", "Telemetry", .product(name: "Logging", package: "swift-log")],
            resources: [
                .copy("Resources/system_prompt.md"), .copy("Resources/analysis.md"), .copy("Resources/coding.md"),
                .copy("Resources/rlm_code_harness.py"),
            ]
        ),
        .target(name: "RLMConfig", dependencies: ["RLMCommon"]),
        .target(name: "RLMCommon"),
        .target(name: "SandboxBackends", dependencies: ["RLMConfig", "Sandboxes", "Daytona"]),
        // The JSON-RPC envelope check every transport runs first; only RLMCommon's JSONValue, so its fuzz target builds alone.
        .target(name: "JSONRPCWire", dependencies: ["RLMCommon"]),
        // Replays the fuzz seed corpus (Fuzz/corpus) through the check; scripts/fuzz.sh is the libFuzzer build.
        .executableTarget(name: "message-fuzz", dependencies: ["JSONRPCWire"], path: "Fuzz/message-fuzz"),
                // Run history: the store the engine's RunRecorder writes to, and what `rlm-mcp runs` reads.
        .target(name: "History", dependencies: ["RLMEngine", "RLMConfig", "RLMCommon", .product(name: "GRDB", package: "GRDB.swift"), .product(name: "PostgresNIO", package: "postgres-nio"), .product(name: "Logging", package: "swift-log")]),
        // The /runs web viewer: Hummingbird routes over the history, server-rendered Mustache templates.
        .target(
            name: "RunViewer",
            dependencies: [
                "History",
                "RLMConfig",
                "RLMEngine",
                "RLMCommon",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            resources: [.copy("Templates"), .copy("Static")]
        ),
        .testTarget(name: "HistoryTests", dependencies: ["History", "RLMEngine", "RLMCommon", "RLMConfig", "LanguageModels", "Sandboxes", "RunViewer", .product(name: "HummingbirdTesting", package: "hummingbird"), .product(name: "PostgresNIO", package: "postgres-nio"), .product(name: "Logging", package: "swift-log")]),
        .target(name: "Sandboxes", dependencies: ["CSandboxSupport", "Telemetry", "RLMCommon", .product(name: "Crypto", package: "swift-crypto")], resources: [.copy("Resources/rlm_worker.py")]),
        .target(name: "CSandboxSupport"),
        .target(
            name: "Daytona",
            dependencies: [
                "Sandboxes",
                "RLMCommon",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "WSClient", package: "swift-websocket"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ]
        ),
        .target(
            name: "LanguageModels",
            dependencies: [
                "RLMConfig",
                "RLMCommon",
                "Telemetry",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        .target(
            name: "Telemetry",
            dependencies: [
                "RLMCommon",
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ]
        ),
        .testTarget(name: "TelemetryTests", dependencies: ["Telemetry", .product(name: "InMemoryTracing", package: "swift-distributed-tracing"), .product(name: "Tracing", package: "swift-distributed-tracing")]),
        .testTarget(name: "RLMConfigTests", dependencies: ["RLMConfig"]),
        .testTarget(name: "RLMCommonTests", dependencies: ["RLMCommon"]),
        .testTarget(name: "SandboxesTests", dependencies: ["Sandboxes", "RLMCommon", "FakeServices"]),
        .testTarget(name: "RLMEngineTests", dependencies: ["RLMEngine", "RLMCommon", "Sandboxes", "LanguageModels"]),
        .target(name: "FakeServices", path: "Tests/FakeServices"),
        .testTarget(name: "DaytonaTests", dependencies: ["Daytona", "Sandboxes", "RLMCommon", "FakeServices", .product(name: "Logging", package: "swift-log")]),
        .testTarget(name: "LanguageModelsTests", dependencies: ["LanguageModels", "RLMConfig", "RLMCommon", "FakeServices", .product(name: "Logging", package: "swift-log")]),
        .testTarget(
            name: "RLMServerTests",
            dependencies: ["RLMServer", "RLMConfig", "JSONRPCWire", "RLMCommon", "History", .product(name: "HTTPTypes", package: "swift-http-types")]
        ),
    ]
)
