// swift-tools-version:5.9
// netlab: a C core (libnetlab, target CNetlab) with a thin Swift shell.
// Link flags for libnet, libpcap and libcsv live here and in the Makefile/netlab.pc only.
import PackageDescription

let package = Package(
    name: "netlab",
    products: [
        .library(name: "Netlab", targets: ["Netlab"]),
        .executable(name: "injector", targets: ["injector"]),
        .executable(name: "chatserver", targets: ["chatserver"]),
        .executable(name: "chatclient", targets: ["chatclient"]),
        .executable(name: "echoserver", targets: ["echoserver"]),
        .executable(name: "echoclient", targets: ["echoclient"]),
    ],
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
            cSettings: [
                .define("_GNU_SOURCE"),
            ],
            linkerSettings: [
                .linkedLibrary("net"),
                .linkedLibrary("pcap"),
                .linkedLibrary("csv"),
            ]
        ),
        .target(
            name: "Netlab",
            dependencies: ["CNetlab"],
            path: "Sources/Netlab"
        ),
        .executableTarget(
            name: "injector",
            dependencies: [
                "Netlab",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Sources/injector"
        ),
        .executableTarget(
            name: "chatserver",
            dependencies: [
                "Netlab",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Sources/chatserver"
        ),
        .executableTarget(
            name: "chatclient",
            dependencies: [
                "Netlab",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Sources/chatclient"
        ),
        .executableTarget(
            name: "echoserver",
            dependencies: [
                "Netlab",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Sources/echoserver"
        ),
        .executableTarget(
            name: "echoclient",
            dependencies: [
                "Netlab",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Sources/echoclient"
        ),
        // The many-client harness of the chat tests and benchmarks: plain C and epoll,
        // written against the protocol text rather than libnetlab.
        .executableTarget(
            name: "chatload",
            path: "tools/chatload"
        ),
        .testTarget(
            name: "NetlabTests",
            dependencies: ["Netlab", "CNetlab", "injector", "chatserver", "chatclient", "echoserver", "echoclient", "chatload"],
            path: "Tests/NetlabTests"
        ),
    ]
)
