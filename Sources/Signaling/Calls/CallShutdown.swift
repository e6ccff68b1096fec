import ServiceLifecycle

/// Ends every call when the server shuts down, while the WebSockets are still open: each
/// participant's connection gets `call.left` with reason `server` instead of a bare close.
/// It goes after the HTTP server in the service group, which shuts services down in reverse
/// order, so it runs before the HTTP server closes the WebSockets; it then waits (briefly) for
/// those frames to be written.
public struct CallShutdownService: Service {
    let calls: CallSignaling
    let drainLimit: Duration

    public init(calls: CallSignaling, drainLimit: Duration = .seconds(1)) {
        self.calls = calls
        self.drainLimit = drainLimit
    }

    public func run() async throws {
        try? await gracefulShutdown()
        let connections = calls.directory.connections
        await calls.endAll()
        let deadline = ContinuousClock.now + drainLimit
        while ContinuousClock.now < deadline, connections.contains(where: { $0.queue.count > 0 }) {
            try? await Task.sleep(for: .milliseconds(10))
        }
    }
}
