import ArgumentParser

@main
struct Parley: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "parley",
        abstract: "Team chat and group calls in one server.",
        subcommands: [Serve.self, Migrate.self, Check.self, Admin.self, SeedDemo.self],
        defaultSubcommand: Serve.self)
}
