import ArgumentParser
import ChatAPI
import Foundation

/// `parley admin`: running the server from its console (docs/self-hosting.md "Administrators"),
/// on the database the configuration names. For the owner at the keyboard: no account needed.
struct Admin: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Administer accounts and invitations from the console.",
        subcommands: [Invite.self, Users.self, Deactivate.self, Reactivate.self, Promote.self, Demote.self, ResetPassword.self])

    struct Invite: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create an invitation and print its code and sign-up link.")

        @Option(help: "How many accounts the code may create (1-1000).")
        var maxUses: Int = 1
        @Option(help: "Hours until the code expires (1-720).")
        var expiresInHours: Int = 168

        func run() async throws {
            try await ConsoleServices.run { services, configuration in
                let (invite, code) = try await services.admin.createInvite(maxUses: maxUses, expiresInHours: expiresInHours, createdBy: nil)
                print("code: \(code)")
                if let origin = configuration.publicURL {
                    print("url: \(AdminRoutes.signupURL(origin: origin, code: code))")
                } else {
                    print("url: <your server's address>\(AdminRoutes.signupURL(origin: "", code: code))  (set PUBLIC_URL for a whole link)")
                }
                print("uses: \(invite.maxUses), expires: \(invite.expiresAt.rfc3339)")
                if configuration.registration != .invite {
                    // Made anyway: the policy may change before the code is used.
                    FileHandle.standardError.write(Data(
                        "note: REGISTRATION is \(configuration.registration.rawValue); invitation codes matter only with invite\n".utf8))
                }
            }
        }
    }

    struct Users: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List accounts, optionally those whose name or email starts with a text.")

        @Option(help: "A display name or email prefix.")
        var query: String?

        func run() async throws {
            try await ConsoleServices.run { services, _ in
                var cursor: String?
                var count = 0
                print(["EMAIL", "NAME", "ROLE", "STATUS", "CREATED"].joined(separator: "\t"))
                repeat {
                    let page = try await services.admin.listUsers(query: query, limit: "200", cursor: cursor)
                    for user in page.users {
                        let status = user.deactivatedAt.map { "deactivated \($0.rfc3339)" } ?? "active"
                        print([user.email, user.displayName, user.role.rawValue, status, user.createdAt.rfc3339].joined(separator: "\t"))
                    }
                    count += page.users.count
                    cursor = page.nextCursor
                } while cursor != nil
                FileHandle.standardError.write(Data("\(count) account\(count == 1 ? "" : "s")\n".utf8))
            }
        }
    }

    struct Deactivate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Deactivate an account: its logins end and it cannot sign in.")
        @Argument(help: "The account's email.") var email: String

        func run() async throws {
            try await ConsoleServices.run { services, _ in
                let user = try await services.admin.user(email: email)
                try await services.admin.deactivate(userId: user.id)
                print("deactivated \(user.email)")
            }
        }
    }

    struct Reactivate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Let a deactivated account sign in again.")
        @Argument(help: "The account's email.") var email: String

        func run() async throws {
            try await ConsoleServices.run { services, _ in
                let user = try await services.admin.user(email: email)
                try await services.admin.reactivate(userId: user.id)
                print("reactivated \(user.email)")
            }
        }
    }

    struct Promote: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Make an account an administrator.")
        @Argument(help: "The account's email.") var email: String

        func run() async throws {
            try await ConsoleServices.run { services, _ in
                let user = try await services.admin.user(email: email)
                try await services.admin.setRole(userId: user.id, role: .admin)
                print("\(user.email) is an administrator")
            }
        }
    }

    struct Demote: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Make an administrator a plain member.")
        @Argument(help: "The account's email.") var email: String

        func run() async throws {
            try await ConsoleServices.run { services, _ in
                let user = try await services.admin.user(email: email)
                try await services.admin.setRole(userId: user.id, role: .member)
                print("\(user.email) is a member")
            }
        }
    }

    struct ResetPassword: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "reset-password",
            abstract: "Give an account a new random password (printed once) and end its logins.")
        @Argument(help: "The account's email.") var email: String

        func run() async throws {
            try await ConsoleServices.run { services, _ in
                let user = try await services.admin.user(email: email)
                let password = try await services.admin.resetPassword(userId: user.id)
                // Printed once, to this terminal only; never logged or stored in clear.
                print("new password for \(user.email): \(password)")
                print("(every login of the account has ended; ask them to change it under their profile)")
            }
        }
    }
}
