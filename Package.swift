// swift-tools-version:5.9
// netlab: a C core (libnetlab, target CNetlab) with a thin Swift shell.
// Link flags are written in the Makefile (DEP_LIBS); the linkedLibrary list below must name the same
// libraries, and scripts/check-link-flags.sh (run by make check and make test) says when it does not.
import PackageDescription

/// The command-line tools. Every command is in one library, NetlabCLI: its own folder (lab, report,
/// doctor, the `netlab` front door) and one folder per packet tool and socket application. `netlab`
/// runs them all as subcommands (`netlab inject`, `netlab chat server`, ...); each classic executable
/// (the design card's `swift run injector`) runs one of them under its own name. Both kinds are a
/// one-line main in Sources/Main/. A new subcommand is one line in NetlabCommand.swift, not here.
let commandFolders = ["NetlabCLI", "injector", "capture", "analyze", "chatserver", "chatclient", "echoserver", "echoclient"]
/// The executables: `netlab` and the classic names.
let executables = ["netlab", "injector", "capture", "analyze", "chatserver", "chatclient", "echoserver", "echoclient"]
/// An executable's target (the product keeps the name): "injector" is built from Main_injector.
func mainTarget(_ name: String) -> String { "Main_" + name }

let package = Package(
    name: "netlab",
    products: [.library(name: "Netlab", targets: ["Netlab"])]
        + executables.map { .executable(name: $0, targets: [mainTarget($0)]) },
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
            ] + ["base", "wire", "pcap", "craft", "analyze", "apps", "lab", "prove"].map {
                .headerSearchPath("CSources/netlab/\($0)")
            },
            linkerSettings: [
                .linkedLibrary("net"),
                .linkedLibrary("pcap"),
                .linkedLibrary("csv"),
                .linkedLibrary("hiredis"),  // the chat cluster through Redis (nl_redis.c); used only with --cluster
                .linkedLibrary("z"),        // zlib: deflate entries of submitted zip archives (nl_zip.c)
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
            dependencies: ["Netlab", "CNetlab", "chatload"] + executables.map { .target(name: mainTarget($0)) },
            path: "Tests/NetlabTests"
        ),
        .target(
            name: "NetlabCLI",
            dependencies: [
                "Netlab",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Sources",
            exclude: ["Netlab", "Main"],
            sources: commandFolders
        ),
    ] + executables.map { name in
        .executableTarget(
            name: mainTarget(name),
            dependencies: ["NetlabCLI"],
            path: "Sources/Main",
            exclude: executables.filter { $0 != name }.map { $0 + ".swift" },
            sources: [name + ".swift"]
        )
    }
)
