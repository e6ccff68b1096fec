import SFU

/// What happens in calls without a frame asking for it: the media plane's events, and the
/// `call.state` of evictions made during the bus's delivery.
extension CallSignaling {
    /// A lapsed or failed transport ends its participant's part in the call; active speakers go
    /// to the call; evictions' `call.state` is announced in order. Until the server stops.
    func run() async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { [self] in
                for await conversationId in stateChangeStream { await announceState(conversationId) }
            }
            group.addTask { [self] in await handleMediaEvents() }
            group.addTask { [self] in
                while !Task.isCancelled {
                    try? await Task.sleep(for: .seconds(1))
                    await sweepUnanswered()
                }
            }
            await group.next()
            group.cancelAll()
        }
    }

    func finish() { stateChanges.finish() }

    private func handleMediaEvents() async {
        for await event in events {
            switch event {
            case .connected(let participant, let role):
                logger.debug("media transport connected", metadata: ["participant": "\(participant)", "pc": "\(role.rawValue)"])
            case .transportClosed(let participant, let role, let reason):
                logger.info("call participant's media transport closed; leaving the call",
                            metadata: ["participant": "\(participant)", "pc": "\(role.rawValue)", "reason": "\(reason)"])
                await end(where: { id, _ in id == participant }, reason: .consent)
            case .activeSpeakers(let callId, let speakers):
                guard let (conversationId, userIds) = directory.recordSpeakers(callId: callId, speakers) else { continue }
                let frame = ServerFrame.make("call.active-speaker", droppable: true,
                                             CallFrames.ActiveSpeaker(conversationId: conversationId, speakers: userIds))
                for member in directory.members(of: conversationId) { outbox.send(frame, to: member.connection) }
            }
        }
    }
}
