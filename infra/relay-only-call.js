// A relay-only test call (docs/self-hosting.md, "The final check"). Paste this whole file
// into the browser's developer console on the Parley page (F12 -> Console) BEFORE starting
// or joining the call; then join, wait a few seconds and run:   await parleyRelayReport()
//
// From then on every peer connection this tab opens uses TURN relays only
// (iceTransportPolicy "relay", RFC 8656 relayed candidates): the call works only if coturn
// accepts Parley's credentials, its relay ports are open, and coturn reaches Parley's media
// port at the public address (the hairpin, scripts/hairpin). A direct path cannot hide a
// broken relay. Reload the page to go back to normal.
(() => {
  const Native = window.RTCPeerConnection;
  const connections = [];
  window.RTCPeerConnection = class RelayOnlyPeerConnection extends Native {
    constructor(configuration = {}, ...rest) {
      super({ ...configuration, iceTransportPolicy: "relay" }, ...rest);
      connections.push(this);
    }
  };

  // One row per peer connection: its state, the kind of local candidate of the pair in use
  // ("relay" for all of them, or the check fails) and the bytes that went each way.
  window.parleyRelayReport = async () => {
    const rows = [];
    for (const pc of connections) {
      if (pc.connectionState === "closed") continue;
      const stats = await pc.getStats();
      let pair = null;
      stats.forEach((report) => {
        if (report.type === "transport" && report.selectedCandidatePairId) pair = stats.get(report.selectedCandidatePairId);
      });
      const local = pair ? stats.get(pair.localCandidateId) : null;
      rows.push({
        state: pc.connectionState,
        candidate: local ? local.candidateType : "none",
        relayProtocol: local ? local.relayProtocol || "" : "",
        bytesSent: pair ? pair.bytesSent : 0,
        bytesReceived: pair ? pair.bytesReceived : 0,
      });
    }
    const ok = rows.length > 0 && rows.every((row) =>
      row.state === "connected" && row.candidate === "relay" && row.bytesSent > 0 && row.bytesReceived > 0);
    console.table(rows);
    console.log(ok ? "relay-only call: OK (every connection goes through the TURN relay, media both ways)"
                   : "relay-only call: NOT OK (see the rows above; docs/self-hosting.md, Troubleshooting)");
    return { ok, rows };
  };
  console.log("relay-only: connections from this tab now use TURN relays only. Join the call, then: await parleyRelayReport()");
})();
