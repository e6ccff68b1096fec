// Signaling module.
