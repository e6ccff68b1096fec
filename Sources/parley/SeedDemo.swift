import ArgumentParser
import ChatAPI
import Foundation

/// `parley seed-demo`: fills an empty server with three demo accounts, a group, a DM and some
/// history, so a newcomer can try chat and a call in two browser windows at once (README
/// "Run it"). The accounts get random passwords, printed here once. A server that already has
/// accounts is refused unless `--force`: demo accounts with printed passwords have no place
/// beside real people.
struct SeedDemo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "seed-demo", abstract: "Create demo accounts, a group, a DM and some history on an empty server.")

    @Flag(help: "Seed even though the server already has accounts.")
    var force = false

    static let people = [("Alice", "alice@demo.example"), ("Bob", "bob@demo.example"), ("Carol", "carol@demo.example")]

    func run() async throws {
        try await ConsoleServices.run { services, _ in
            let existing = try await services.admin.listUsers(query: nil, limit: "1", cursor: nil).users
            if !existing.isEmpty, !force {
                ConsoleServices.fail("this server already has accounts; seed-demo is for an empty one (--force to seed anyway)",
                                     status: ConsoleServices.refused)
            }
            var people: [(name: String, email: String, password: String, caller: AuthContext, role: AccountRole)] = []
            for (name, base) in Self.people {
                let password = SecretToken.generate(prefix: "", bytes: 9).value
                // Seeding again (--force) makes new demo accounts beside the old ones.
                var email = base
                if !existing.isEmpty, try await services.users.find(email: base) != nil {
                    let suffix = SecretToken.generate(prefix: "", bytes: 3).value.lowercased()
                    email = base.replacingOccurrences(of: "@", with: "+\(suffix)@")
                }
                let response = try await services.auth.register(email: email, password: password, displayName: name)
                people.append((name, email, password, AuthContext(userId: response.user.id, loginId: ""), response.user.role))
            }
            let (alice, bob, carol) = (people[0].caller, people[1].caller, people[2].caller)
            let group = try await services.conversations.createGroup(
                title: "Demo team", memberIds: [bob.userId, carol.userId], alice)
            let script: [(AuthContext, String)] = [
                (alice, "Welcome to Parley! This is a group: everyone here sees these messages."),
                (bob, "Hi all 👋"),
                (carol, "Hello! Try the call button at the top to start a group call."),
                (alice, "Open a second browser window (or a private one), sign in as someone else, and join the call from there."),
            ]
            for (caller, text) in script { _ = try await services.messages.send(group.id, content: text, clientMsgId: nil, caller) }
            let (dm, _) = try await services.conversations.openDM(with: bob.userId, alice)
            _ = try await services.messages.send(dm.id, content: "This is a direct message between Alice and Bob.", clientMsgId: nil, alice)
            _ = try await services.messages.send(dm.id, content: "Only the two of us see it.", clientMsgId: nil, bob)

            print("Demo accounts (passwords shown once):")
            for person in people {
                print("  \(person.email)  \(person.password)  \(person.name)\(person.role == .admin ? " (administrator)" : "")")
            }
            print("Group \"Demo team\" with all three, a DM between Alice and Bob, and a few messages.")
        }
    }
}
