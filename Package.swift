// swift-tools-version:5.9
// netlab: a C core (libnetlab, target CNetlab) with a thin Swift shell.
// Link flags for libnet, libpcap and libcsv live here and in the Makefile/netlab.pc only.
import PackageDescription

let package = Package(
    name: "netlab",
    products: [
        .library(name: "Netlab", targets: ["Netlab"]),
        .executable(name: "injector", targets: ["injector"]),
        .executable(name: "capture", targets: ["capture"]),
        .executable(name: "netlab", targets: ["NetlabCLI"]),
        .executable(name: "analyze", targets: ["analyze"]),
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
            name: "capture",
            dependencies: [
                "Netlab",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Sources/capture"
        ),
        .executableTarget(
            name: "NetlabCLI",
            dependencies: [
                "Netlab",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Sources/NetlabCLI"
        ),
        .executableTarget(
            name: "analyze",
            dependencies: [
                "Netlab",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Sources/analyze"
        ),
        .testTarget(
            name: "NetlabTests",
            dependencies: ["Netlab", "CNetlab", "injector", "capture", "NetlabCLI", "analyze"],
            path: "Tests/NetlabTests"
        ),
    ]
)
