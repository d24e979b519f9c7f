// swift-tools-version:5.9
// netlab: a C core (libnetlab, target CNetlab) with a thin Swift shell.
// Link flags for libnet, libpcap and libcsv live here and in the Makefile/netlab.pc only.
import PackageDescription

/// The command-line tools: each a thin ArgumentParser front end over Netlab.
/// (executable name, target name, source folder)
let tools: [(String, String, String)] = [
    ("injector", "injector", "Sources/injector"),
    ("capture", "capture", "Sources/capture"),
    ("analyze", "analyze", "Sources/analyze"),
    ("chatserver", "chatserver", "Sources/chatserver"),
    ("chatclient", "chatclient", "Sources/chatclient"),
    ("echoserver", "echoserver", "Sources/echoserver"),
    ("echoclient", "echoclient", "Sources/echoclient"),
    ("netlab", "NetlabCLI", "Sources/NetlabCLI"),
]

let package = Package(
    name: "netlab",
    products: [.library(name: "Netlab", targets: ["Netlab"])]
        + tools.map { .executable(name: $0.0, targets: [$0.1]) },
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // libnetlab: every networking decision lives here.
        .target(
            name: "CNetlab",
            path: ".",
            sources: ["CSources/netlab"],
            publicHeadersPath: "include",
            // CSources/netlab/<half>/ (docs/ARCHITECTURE.md); one search path per half folder so that
            // internal headers (nl_internal.h, nl_analysis.h, ...) are included by name alone.
            cSettings: [
                .define("_GNU_SOURCE"),
            ] + ["base", "wire", "pcap", "craft", "analyze", "apps", "lab"].map {
                .headerSearchPath("CSources/netlab/\($0)")
            },
            linkerSettings: [
                .linkedLibrary("net"),
                .linkedLibrary("pcap"),
                .linkedLibrary("csv"),
                .linkedLibrary("hiredis"),  // the chat cluster through Redis (nl_redis.c); used only with --cluster
            ]
        ),
        .target(
            name: "Netlab",
            dependencies: ["CNetlab"],
            path: "Sources/Netlab"
        ),
        // The many-client harness of the chat tests and benchmarks: plain C and epoll,
        // written against the protocol text rather than libnetlab.
        .executableTarget(
            name: "chatload",
            path: "tools/chatload"
        ),
        .testTarget(
            name: "NetlabTests",
            dependencies: ["Netlab", "CNetlab", "chatload"] + tools.map { .target(name: $0.1) },
            path: "Tests/NetlabTests"
        ),
    ] + tools.map { tool in
        .executableTarget(
            name: tool.1,
            dependencies: [
                "Netlab",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: tool.2
        )
    }
)
