// swift-tools-version:6.0
import PackageDescription

let strict: [SwiftSetting] = [.enableUpcomingFeature("ExistentialAny")]

let package = Package(
    name: "parley",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "parley", targets: ["parley"]),
        .executable(name: "parley-bench", targets: ["parley-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth", from: "2.5.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket", from: "2.8.1"),
        .package(url: "https://github.com/vapor/jwt-kit", from: "5.7.1"),
        .package(url: "https://github.com/vapor/sql-kit", from: "3.36.0"),
        .package(url: "https://github.com/vapor/sqlite-kit", from: "4.5.2"),
        .package(url: "https://github.com/vapor/postgres-kit", from: "2.17.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
    ],
    targets: [
        // MARK: command line and wiring
        .executableTarget(
            name: "parley",
            dependencies: [
                "ChatAPI", "Signaling", "SFU", "ICE", "DTLS", "ObjectStorage",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            swiftSettings: strict,
            plugins: ["EmbedFiles"]
        ),
        // The benchmarks (BENCHMARKS.md): a program of their own, so the server carries none of them.
        .executableTarget(
            name: "parley-bench",
            dependencies: [
                "SFU", "ICE", "DTLS",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "HummingbirdWSClient", package: "hummingbird-websocket"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),

        // MARK: chat
        .target(
            name: "ChatAPI",
            dependencies: [
                "ObjectStorage",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "SQLKit", package: "sql-kit"),
                .product(name: "SQLiteKit", package: "sqlite-kit"),
                .product(name: "PostgresKit", package: "postgres-kit"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ],
            exclude: ["openapi.yaml"],  // compiled in by EmbedFiles
            swiftSettings: strict,
            plugins: ["EmbedFiles"]
        ),
        // Attachment bytes: a folder of this server, or an S3-compatible bucket through SigV4
        // presigned URLs (the bytes go from the browser to the store and back, not through Parley).
        .target(
            name: "ObjectStorage",
            dependencies: [
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "Signaling",
            dependencies: [
                "ChatAPI", "SFU", "SDP", "ICE",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "PostgresKit", package: "postgres-kit"),
                .product(name: "SQLKit", package: "sql-kit"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            swiftSettings: strict
        ),

        // MARK: media
        .target(
            name: "SFU",
            dependencies: [
                "ICE", "DTLS", "RTP", "RTCP", "SDP", "ByteOrder", "CParleyShims",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            swiftSettings: strict
        ),
        // The media codecs, each usable and testable without the SFU (pion's split): RTP packets
        // and payload descriptors, RTCP reports and feedback, and SDP with the offer/answer rules.
        .target(name: "RTP", dependencies: ["ByteOrder"], swiftSettings: strict),
        .target(name: "RTCP", dependencies: ["RTP", "ByteOrder"], swiftSettings: strict),
        .target(name: "SDP", dependencies: ["ICE", "DTLS"], swiftSettings: strict),
        // Network byte order reads and writes, shared by the STUN, RTP and RTCP codecs.
        .target(name: "ByteOrder", swiftSettings: strict),
        .target(
            name: "ICE",
            dependencies: [
                "CICEShims", "ByteOrder",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strict
        ),
        .target(name: "CICEShims"),  // recvmmsg/sendmmsg for the ICE media socket
        .target(name: "DTLS", dependencies: ["COpenSSL", "CSRTP", "CParleyShims"], swiftSettings: strict),
        // MARK: build tools
        // Files the server serves (the OpenAPI document, the web client) compiled into it, so the
        // installed binary needs nothing beside it at run time.
        .plugin(name: "EmbedFiles", capability: .buildTool(), dependencies: ["embed-files"]),
        .executableTarget(name: "embed-files", swiftSettings: strict),

        // MARK: C libraries (system packages through pkg-config) and the macro shims Swift needs
        .systemLibrary(name: "COpenSSL", pkgConfig: "openssl", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CSRTP", pkgConfig: "libsrtp2", providers: [.apt(["libsrtp2-dev"])]),
        .systemLibrary(name: "COpus", pkgConfig: "opus", providers: [.apt(["libopus-dev"])]),
        .target(name: "CParleyShims", dependencies: ["COpenSSL"]),

        // MARK: tests
        .target(
            name: "ChatTestSupport",
            dependencies: ["ChatAPI", .product(name: "PostgresKit", package: "postgres-kit"), .product(name: "SQLKit", package: "sql-kit")],
            path: "Tests/ChatTestSupport",
            swiftSettings: strict
        ),
        .testTarget(
            name: "ChatAPITests",
            dependencies: [
                "ChatAPI", "ChatTestSupport", "ObjectStorage",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "JWTKit", package: "jwt-kit"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "SignalingTests",
            dependencies: [
                "Signaling", "ChatAPI", "ChatTestSupport", "SFU", "ICE", "SDP", "DTLS",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HummingbirdWSClient", package: "hummingbird-websocket"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "ParleyTests",
            dependencies: ["parley", "ChatAPI", "ObjectStorage", .product(name: "HummingbirdTesting", package: "hummingbird")],
            swiftSettings: strict
        ),
        .testTarget(name: "ObjectStorageTests", dependencies: ["ObjectStorage"], swiftSettings: strict),
        .testTarget(name: "ICETests", dependencies: ["ICE"], exclude: ["aioice_peer.py"], swiftSettings: strict),
        .testTarget(name: "SFUTests", dependencies: ["SFU", "RTP", "RTCP", "SDP", "ICE", "DTLS", "CodecTestSupport"], swiftSettings: strict),
        .testTarget(name: "RTPTests", dependencies: ["RTP", "CodecTestSupport"], swiftSettings: strict),
        .testTarget(name: "RTCPTests", dependencies: ["RTCP", "RTP", "CodecTestSupport"], swiftSettings: strict),
        .testTarget(name: "SDPTests", dependencies: ["SDP", "ICE", "DTLS", "CodecTestSupport"], swiftSettings: strict),
        // Hex vectors, a seeded generator, aiortc as an independent implementation, and the SDP
        // captured from Chromium, Firefox, Safari and aiortc (Fixtures/capture).
        .target(
            name: "CodecTestSupport", path: "Tests/CodecTestSupport", exclude: ["Fixtures/capture", "Fixtures/README.md"],
            resources: [.copy("Fixtures")], swiftSettings: strict),
        .testTarget(name: "DTLSTests", dependencies: ["DTLS", "COpus", "COpusShims"], exclude: ["aiortc_dtls_peer.py"], swiftSettings: strict),
        // libopus's variadic encoder control, for the tests that encode audio (the server does not use Opus).
        .target(name: "COpusShims", dependencies: ["COpus"], path: "Tests/COpusShims"),
    ]
)

// MARK: fuzzing (`scripts/fuzz`)
// libFuzzer entry points, one executable per input surface, declared only when PARLEY_FUZZ is
// set: they must be built with
// `-sanitize=fuzzer,address`, so an ordinary `swift build` never sees them. Each one's @main
// hands libFuzzer its callback (`LLVMFuzzerRunDriver`), as SwiftPM links `main` itself.
if Context.environment["PARLEY_FUZZ"] != nil {
    let nio = { (name: String) in Target.Dependency.product(name: name, package: "swift-nio") }
    let fuzzTargets: [(name: String, folder: String, dependencies: [Target.Dependency])] = [
        ("fuzz-stun", "stun", ["ICE"]),
        ("fuzz-icetcp", "icetcp", ["ICE"]),
        ("fuzz-rtp", "rtp", ["RTP"]),
        ("fuzz-rtcp", "rtcp", ["RTCP", "RTP"]),
        ("fuzz-sdp", "sdp", ["SDP", "ICE", "DTLS"]),
        ("fuzz-dtls", "dtls", ["DTLS"]),
        ("fuzz-clientframe", "clientframe", ["Signaling", nio("NIOCore"), nio("NIOEmbedded"), nio("NIOWebSocket")]),
        ("fuzz-attachment", "attachment", ["ChatAPI", "ObjectStorage"]),
    ]
    package.targets.append(.target(name: "CFuzzDriver", path: "Fuzz/Driver"))
    for target in fuzzTargets {
        package.targets.append(.executableTarget(
            name: target.name, dependencies: ["CFuzzDriver"] + target.dependencies, path: "Fuzz/Targets/\(target.folder)",
            swiftSettings: strict))
    }
}
