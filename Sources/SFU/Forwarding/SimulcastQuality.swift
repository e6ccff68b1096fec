/// A subscriber's wish for one remote video track (`call.quality`, docs/protocol.md): which simulcast
/// layer it would like at most. The layer it gets is also bounded by its estimated bandwidth.
public enum SimulcastQuality: String, Sendable, CaseIterable {
    case high, medium, low, off
}
