import ArgumentParser

/// `parley bench ...`: benchmarks that can be rerun; results go to BENCHMARKS.md.
struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a benchmark.",
        subcommands: [BenchChat.self, BenchStun.self, BenchUDP.self, BenchSRTP.self, BenchSFU.self])
}
