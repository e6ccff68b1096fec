import Crypto

/// What the lite agent knows of one transport: its credentials, the 5-tuples that passed a
/// valid check, which one carries media, and consent. Only valid checks change it.
struct ICETransportState {
    /// A 5-tuple from which a valid check arrived (a peer-reflexive or host pair, RFC 8445 §7.3.1.3).
    struct ValidatedPath {
        var tuple: FiveTuple
        var lastCheck: ContinuousClock.Instant
    }

    let id: ICETransportID
    let local: ICECredentials
    let key: STUNIntegrityKey
    var remoteUfrag: String?
    var paths: [ValidatedPath]
    var selected: FiveTuple?
    var consent: ConsentTimer

    init(id: ICETransportID, local: ICECredentials, remoteUfrag: String?, consentTimeout: Duration,
         maxPaths: Int, now: ContinuousClock.Instant) {
        self.id = id
        self.local = local
        self.key = STUNIntegrityKey(local.key)
        self.remoteUfrag = remoteUfrag
        self.paths = []
        self.paths.reserveCapacity(maxPaths)
        self.selected = nil
        self.consent = ConsentTimer(timeout: consentTimeout, now: now)
    }

    func lastCheck(of tuple: FiveTuple) -> ContinuousClock.Instant? {
        paths.first { $0.tuple == tuple }?.lastCheck
    }

    /// Records a valid check and applies the lite nomination rules; returns the selection change
    /// and the path evicted to stay within `maxPaths`, if any.
    ///
    /// - USE-CANDIDATE selects the check's 5-tuple (RFC 8445 §7.3.1.5; a lite agent has no
    ///   checks of its own to wait for, §8.2).
    /// - A valid check from a 5-tuple other than the selected one, while the selected one has
    ///   had no valid check for `moveAfter`, moves media there: the peer changed networks and
    ///   its old path is dead, and waiting for a renomination would stall media.
    mutating func validCheck(from tuple: FiveTuple, useCandidate: Bool, now: ContinuousClock.Instant,
                             moveAfter: Duration, maxPaths: Int) -> (ICESelectionChange?, evicted: FiveTuple?) {
        consent.refresh(now: now)
        let selectedLastCheck = selected.flatMap { lastCheck(of: $0) }
        var evicted: FiveTuple?
        if let i = paths.firstIndex(where: { $0.tuple == tuple }) {
            paths[i].lastCheck = now
        } else {
            if paths.count >= maxPaths {
                // Evict the least recently checked path that is not selected.
                var victim: Int?
                for (i, p) in paths.enumerated() where p.tuple != selected {
                    if victim == nil || p.lastCheck < paths[victim!].lastCheck { victim = i }
                }
                if let v = victim {
                    evicted = paths[v].tuple
                    paths.remove(at: v)
                }
            }
            paths.append(ValidatedPath(tuple: tuple, lastCheck: now))
        }
        guard selected != tuple else { return (nil, evicted) }
        let silentSelected = selectedLastCheck.map { now - $0 >= moveAfter } ?? false
        if useCandidate || silentSelected {
            let change = ICESelectionChange(previous: selected, current: tuple)
            selected = tuple
            return (change, evicted)
        }
        return (nil, evicted)
    }
}
