// Parley call client for browsers: the client side of docs/protocol.md "WebSocket /ws" and
// "Calls", as plain ES modules with no build step.
//
//   const socket = await ParleySocket.connect("wss://host/ws", accessToken);
//   const call = new CallSession(socket, conversationId);
//   call.addEventListener("track", (event) => attach(event.detail));
//   await call.join();
//   await call.publish(await navigator.mediaDevices.getUserMedia({audio: true, video: true}));
//   ...
//   await call.leave();
//
// Two peer connections per participant: the publish connection carries this browser's
// send-only transceivers (the client offers, the server answers); the subscribe connection
// carries everyone else's tracks (the server offers, the client answers). The server is
// ICE-lite and lists all of its candidates in its SDP, so nothing here waits for trickle ICE.

/** An error frame from the server, or a request the socket could not complete. */
export class ParleyError extends Error {
  constructor(code, message, frame = null) {
    super(`${code}: ${message}`);
    this.name = "ParleyError";
    this.code = code;
    this.frame = frame;
  }
}

/**
 * One authenticated `/ws` connection. Every frame is `{type, id?, data}`; the server's direct
 * reply to a frame (or an `error`) carries the frame's `id`, which `request` uses to pair them.
 * Other frames are events, delivered to `on(type, handler)` listeners in arrival order.
 */
export class ParleySocket {
  /** Opens the socket, sends `auth` and resolves once `auth.success` arrives. */
  static connect(url, token, { timeoutMs = 10000 } = {}) {
    const socket = new ParleySocket(new WebSocket(url));
    return new Promise((resolve, reject) => {
      socket.ws.addEventListener("open", () => {
        socket.request("auth", { token }, { timeoutMs }).then((frame) => {
          socket.user = frame.data.user;
          resolve(socket);
        }, (error) => {
          socket.close();
          reject(error);
        });
      }, { once: true });
      socket.ws.addEventListener("close", (event) => {
        reject(new ParleyError("closed", `socket closed with ${event.code} before auth.success`));
      }, { once: true });
    });
  }

  constructor(ws) {
    this.ws = ws;
    this.user = null;
    this.listeners = new Map(); // type -> Set of handlers; "*" sees every frame
    this.pending = new Map();   // id -> {resolve, reject, timer}
    this.nextId = 1;
    ws.addEventListener("message", (event) => this.receive(event.data));
    ws.addEventListener("close", (event) => {
      for (const { reject, timer } of this.pending.values()) {
        clearTimeout(timer);
        reject(new ParleyError("closed", `socket closed with ${event.code}`));
      }
      this.pending.clear();
      this.emit({ type: "socket.closed", data: { code: event.code, reason: event.reason } });
    });
  }

  on(type, handler) {
    if (!this.listeners.has(type)) this.listeners.set(type, new Set());
    this.listeners.get(type).add(handler);
    return () => this.listeners.get(type).delete(handler);
  }

  send(type, data = {}, id = undefined) {
    const frame = id === undefined ? { type, data } : { type, id, data };
    this.ws.send(JSON.stringify(frame));
  }

  /** Sends a frame with a fresh `id` and resolves with the reply that carries it. */
  request(type, data = {}, { timeoutMs = 10000 } = {}) {
    const id = `${type}-${this.nextId++}`;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new ParleyError("timeout", `no reply to ${type} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      this.send(type, data, id);
    });
  }

  close() {
    this.ws.close(1000);
  }

  receive(text) {
    let frame;
    try {
      frame = JSON.parse(text);
    } catch {
      return; // the server only sends JSON; anything else is not ours to act on
    }
    const waiter = frame.id === undefined ? undefined : this.pending.get(frame.id);
    if (waiter) {
      this.pending.delete(frame.id);
      clearTimeout(waiter.timer);
      if (frame.type === "error") {
        waiter.reject(new ParleyError(frame.data?.code ?? "error", frame.data?.message ?? "", frame));
      } else {
        waiter.resolve(frame);
      }
    }
    this.emit(frame);
  }

  emit(frame) {
    for (const key of [frame.type, "*"]) {
      for (const handler of this.listeners.get(key) ?? []) {
        try {
          handler(frame);
        } catch (error) {
          console.error(`handler for ${frame.type} failed`, error);
        }
      }
    }
  }
}

/**
 * The live m-sections of an SDP and what their `a=msid` names. In Parley's subscribe offers
 * the msid is `<publisherUserId> <trackId>`. Returns `mid -> {userId, trackId, kind}`.
 */
export function describeSections(sdp) {
  const sections = new Map();
  let current = null;
  const finish = () => {
    if (current && current.live && current.mid !== null) sections.set(current.mid, current);
  };
  for (const line of sdp.split(/\r?\n/)) {
    if (line.startsWith("m=")) {
      finish();
      const [kind, port] = line.slice(2).split(" ");
      current = { kind, live: port !== "0", mid: null, userId: null, trackId: null };
    } else if (current && line.startsWith("a=mid:")) {
      current.mid = line.slice(6).trim();
    } else if (current && line.startsWith("a=msid:")) {
      const [userId, trackId] = line.slice(7).trim().split(" ");
      current.userId = userId ?? null;
      current.trackId = trackId ?? null;
    } else if (current && line === "a=inactive") {
      current.live = false;
    }
  }
  finish();
  return sections;
}

/**
 * A participant in one conversation's call over a `ParleySocket`.
 *
 * Events (`addEventListener`): `track` {trackId, userId, kind, track, stream} when a remote
 * track starts arriving; `track-removed` {trackId, userId, kind}; `participant-joined` and
 * `participant-left` {userId}; `state` {state} as the call progresses.
 */
export class CallSession extends EventTarget {
  /**
   * @param {object} options
   * @param {string} options.videoQuality the `call.quality` wish sent for every remote video track.
   */
  constructor(socket, conversationId, { videoQuality = "high" } = {}) {
    super();
    this.socket = socket;
    this.conversationId = conversationId;
    this.videoQuality = videoQuality;
    this.state = "idle";
    this.callId = null;
    this.iceServers = [];
    this.participants = new Map();  // userId -> {userId, displayName}
    this.remoteTracks = new Map();  // trackId -> {trackId, userId, kind, source, muted}
    this.sentQuality = new Map();   // trackId -> the quality last asked for
    this.activeSpeakers = [];
    this.publishPc = null;
    this.subscribePc = null;
    this.subscribeSections = new Map(); // mid -> {userId, trackId, kind} from the last subscribe offer
    this.offerChain = Promise.resolve(); // subscribe offers are answered one at a time, in order
    this.unsubscribe = [
      socket.on("call.participants", (frame) => this.onParticipants(frame.data)),
      socket.on("call.participant.joined", (frame) => this.onParticipantJoined(frame.data)),
      socket.on("call.participant.left", (frame) => this.onParticipantLeft(frame.data)),
      socket.on("call.track.published", (frame) => this.onTrackPublished(frame.data)),
      socket.on("call.track.unpublished", (frame) => this.onTrackUnpublished(frame.data)),
      socket.on("call.track.muted", (frame) => this.onTrackMuted(frame.data)),
      socket.on("call.active-speaker", (frame) => this.onActiveSpeakers(frame.data)),
      socket.on("call.subscribe.offer", (frame) => this.onSubscribeOffer(frame.data)),
      // The server takes a closed socket as leaving the call (docs/protocol.md "Calls").
      socket.on("socket.closed", () => this.close()),
    ];
  }

  /** `call.join`: resolves with `call.config` (its ICE servers configure both connections). */
  async join() {
    this.setState("joining");
    const config = await this.socket.request("call.join", { conversationId: this.conversationId });
    this.callId = config.data.callId;
    this.iceServers = config.data.iceServers ?? [];
    this.setState("joined");
    return config.data;
  }

  /**
   * Publishes the stream's audio and video tracks on the publish connection, send-only.
   * @param {MediaStream} stream
   * @param {object} options
   * @param {RTCRtpEncodingParameters[]|null} options.videoEncodings simulcast layers (rids h, m, l) or null for one.
   * @param {object} options.sources trackKind -> source ("microphone", "camera", "screen").
   */
  async publish(stream, { videoEncodings = null, sources = { audio: "microphone", video: "camera" } } = {}) {
    if (!this.publishPc) this.publishPc = this.newPeerConnection("publish");
    const pc = this.publishPc;
    const added = [];
    for (const track of stream.getTracks()) {
      const init = { direction: "sendonly", streams: [stream] };
      if (track.kind === "video" && videoEncodings) init.sendEncodings = videoEncodings;
      added.push({ transceiver: pc.addTransceiver(track, init), source: sources[track.kind] });
    }
    await pc.setLocalDescription(await pc.createOffer());
    const tracks = added.map(({ transceiver, source }) => ({ mid: transceiver.mid, source }));
    const answer = await this.socket.request("call.publish", {
      conversationId: this.conversationId, sdp: pc.localDescription.sdp, tracks,
    });
    await pc.setRemoteDescription({ type: "answer", sdp: answer.data.sdp });
    this.setState("publishing");
    return tracks;
  }

  /** `call.quality` for one remote video track. */
  setQuality(trackId, quality) {
    this.sentQuality.set(trackId, quality);
    this.socket.send("call.quality", { conversationId: this.conversationId, trackId, quality });
  }

  /** `call.mute` for one of this participant's own tracks (by the trackId the server gave it). */
  setMuted(trackId, muted) {
    this.socket.send("call.mute", { conversationId: this.conversationId, trackId, muted });
  }

  /** `call.leave`, then both connections close. */
  async leave() {
    if (this.state === "left") return;
    try {
      this.socket.send("call.leave", { conversationId: this.conversationId });
    } finally {
      this.close();
    }
  }

  close() {
    for (const pc of [this.publishPc, this.subscribePc]) pc?.close();
    this.publishPc = this.subscribePc = null;
    for (const stop of this.unsubscribe) stop();
    this.unsubscribe = [];
    this.setState("left");
  }

  // MARK: internals

  newPeerConnection(role) {
    const pc = new RTCPeerConnection({ iceServers: this.iceServers, bundlePolicy: "max-bundle" });
    pc.addEventListener("icecandidate", (event) => {
      // Parley is ICE-lite and may ignore these, but sending them keeps the client correct
      // for any server that is not.
      if (!event.candidate || !event.candidate.candidate) return;
      const { candidate, sdpMid, sdpMLineIndex } = event.candidate;
      this.socket.send("call.candidate", {
        conversationId: this.conversationId, pc: role, candidate: { candidate, sdpMid, sdpMLineIndex },
      });
    });
    pc.addEventListener("connectionstatechange", () => {
      console.info(`${role} connection ${pc.connectionState}`);
      this.dispatchEvent(new CustomEvent("connection", { detail: { role, state: pc.connectionState } }));
    });
    return pc;
  }

  setState(state) {
    this.state = state;
    this.dispatchEvent(new CustomEvent("state", { detail: { state } }));
  }

  rememberTrack(userId, track) {
    this.remoteTracks.set(track.trackId, { ...track, userId });
  }

  onParticipants({ conversationId, participants }) {
    if (conversationId !== this.conversationId) return;
    for (const participant of participants) {
      this.participants.set(participant.userId, { userId: participant.userId, displayName: participant.displayName });
      for (const track of participant.tracks) this.rememberTrack(participant.userId, track);
    }
  }

  onParticipantJoined({ conversationId, userId }) {
    if (conversationId !== this.conversationId) return;
    this.participants.set(userId, { userId, displayName: null });
    this.dispatchEvent(new CustomEvent("participant-joined", { detail: { userId } }));
  }

  onParticipantLeft({ conversationId, userId }) {
    if (conversationId !== this.conversationId) return;
    this.participants.delete(userId);
    this.dispatchEvent(new CustomEvent("participant-left", { detail: { userId } }));
  }

  onTrackPublished({ conversationId, userId, track }) {
    if (conversationId !== this.conversationId) return;
    this.rememberTrack(userId, track);
  }

  onTrackUnpublished({ conversationId, userId, track }) {
    if (conversationId !== this.conversationId) return;
    this.remoteTracks.delete(track.trackId);
    this.sentQuality.delete(track.trackId);
    this.dispatchEvent(new CustomEvent("track-removed", { detail: { trackId: track.trackId, userId, kind: track.kind } }));
  }

  onTrackMuted({ conversationId, track }) {
    if (conversationId !== this.conversationId) return;
    const known = this.remoteTracks.get(track.trackId);
    if (known) known.muted = track.muted;
  }

  onActiveSpeakers({ conversationId, speakers }) {
    if (conversationId === this.conversationId) this.activeSpeakers = speakers;
  }

  onSubscribeOffer(data) {
    if (data.conversationId !== this.conversationId) return;
    // Each answer must be sent before the next offer is applied; the server sends no new offer
    // until the last one is answered, but keep the order even if that changes.
    this.offerChain = this.offerChain.then(() => this.answerSubscribeOffer(data)).catch((error) => {
      console.error("answering call.subscribe.offer failed", error);
      this.dispatchEvent(new CustomEvent("error", { detail: { error } }));
    });
  }

  async answerSubscribeOffer({ sdp, revision }) {
    if (this.state === "left") return;
    if (!this.subscribePc) {
      this.subscribePc = this.newPeerConnection("subscribe");
      this.subscribePc.addEventListener("track", (event) => this.onRemoteTrack(event));
    }
    const pc = this.subscribePc;
    this.subscribeSections = describeSections(sdp);
    await pc.setRemoteDescription({ type: "offer", sdp });
    await pc.setLocalDescription(await pc.createAnswer());
    this.socket.send("call.subscribe.answer", { conversationId: this.conversationId, sdp: pc.localDescription.sdp, revision });
    // The server applies a quality wish to the down-track that this answer creates, so the
    // wish goes after the answer (on the same socket, so in order).
    for (const section of this.subscribeSections.values()) {
      if (section.kind === "video" && section.trackId && this.sentQuality.get(section.trackId) !== this.videoQuality) {
        this.setQuality(section.trackId, this.videoQuality);
      }
    }
  }

  onRemoteTrack(event) {
    const mid = event.transceiver?.mid;
    const section = mid == null ? undefined : this.subscribeSections.get(mid);
    const trackId = section?.trackId ?? event.track.id;
    const userId = section?.userId ?? this.remoteTracks.get(trackId)?.userId ?? null;
    const stream = event.streams[0] ?? new MediaStream([event.track]);
    this.dispatchEvent(new CustomEvent("track", {
      detail: { trackId, userId, kind: event.track.kind, mid, track: event.track, stream },
    }));
  }

  /** mid -> {userId, trackId, kind} of the subscribe connection's live sections. */
  subscribedTracks() {
    return new Map(this.subscribeSections);
  }
}
