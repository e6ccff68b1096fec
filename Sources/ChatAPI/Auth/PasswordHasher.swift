import HummingbirdBcrypt
import NIOPosix

/// bcrypt hashing, run on the NIO thread pool: a cost-12 hash takes ~250 ms of CPU, which on an
/// event loop would stall every connection and media packet sharing it. A `WorkGate` bounds how
/// many run at once (cores - 1) and how many wait; past that a login or registration is
/// answered 429 at once.
public struct PasswordHasher: Sendable {
    public let cost: UInt8
    private let threadPool: NIOThreadPool
    private let gate: WorkGate

    /// A hash of a random password, verified against when an email is unknown so that a login
    /// for a missing account costs as much time as one for a real account.
    private let decoyHash: String

    public init(cost: UInt8, threadPool: NIOThreadPool = .singleton, gate: WorkGate = .forPasswordHashing()) {
        self.cost = cost
        self.threadPool = threadPool
        self.gate = gate
        self.decoyHash = Bcrypt.hash("decoy-\(UInt64.random(in: .min ... .max))", cost: cost)
    }

    public func hash(_ password: String) async throws -> String {
        let cost = self.cost
        let threadPool = self.threadPool
        return try await gate.run { try await threadPool.runIfActive { Bcrypt.hash(password, cost: cost) } }
    }

    public func verify(_ password: String, hash: String?) async throws -> Bool {
        let target = hash ?? decoyHash
        let threadPool = self.threadPool
        let matches = try await gate.run { try await threadPool.runIfActive { Bcrypt.verify(password, hash: target) } }
        return matches && hash != nil
    }
}
