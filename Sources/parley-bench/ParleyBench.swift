import ArgumentParser

/// `parley-bench ...`: the benchmarks that can be rerun; results go to BENCHMARKS.md. A program of
/// its own (until 2026-12-06 it was `parley bench`), so the server binary carries none of it.
@main
struct ParleyBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "parley-bench",
        abstract: "Run a benchmark.",
        subcommands: [BenchChat.self, BenchSTUN.self, BenchUDP.self, BenchSRTP.self, BenchSFU.self])
}
