// Group calls through Parley's SFU (docs/protocol.md "Calls").
//
// Two peer connections: the publish connection carries this browser's send-only
// transceivers (microphone, camera with simulcast rids h/m/l, and a screen share when one is
// on); this client offers with `call.publish` and Parley answers. The subscribe connection
// carries everyone else's tracks: Parley offers with `call.subscribe.offer {sdp, revision}` and
// this client answers with `call.subscribe.answer` and the same revision, one offer at a time.
// Received tracks are matched to people by the offer's `a=msid:<publisherUserId> <trackId>` of
// each mid. Each remote video's tile size picks the simulcast layer it asks for (`call.quality`).

import { describeError } from "./api.js?v=dev";
import { $, h, reconcile, showAlert } from "./dom.js?v=dev";

const SIMULCAST = [
  { rid: "h", scaleResolutionDownBy: 1 },
  { rid: "m", scaleResolutionDownBy: 2 },
  { rid: "l", scaleResolutionDownBy: 4 },
];

/** `mid -> {mid, kind, userId, trackId}` for the live m-sections of an SDP. */
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
    } else if (!current) {
      continue;
    } else if (line.startsWith("a=mid:")) {
      current.mid = line.slice(6).trim();
    } else if (line.startsWith("a=msid:")) {
      const [userId, trackId] = line.slice(7).trim().split(/\s+/);
      current.userId = userId ?? null;
      current.trackId = trackId ?? null;
    } else if (line === "a=inactive") {
      current.live = false;
    }
  }
  finish();
  return sections;
}

/** The simulcast layer wished for a video shown `width` CSS pixels wide (0: not shown). */
export function qualityForWidth(width, hidden) {
  if (hidden || width <= 0) return "off";
  if (width >= 480) return "high";
  if (width >= 240) return "medium";
  return "low";
}

/** What the user is told for each `reason` of `call.left` (`other`: the DM's other person, or
 * null in a group), and whether it is an error or a plain notice. */
export const LEFT_REASONS = {
  declined: (other) => [`${other ?? "The other person"} declined the call.`, "info"],
  unanswered: (other) => [`${other ?? "Nobody"} did not answer. The call ended.`, "info"],
  alone: (other) => [other ? `${other} hung up. The call ended.` : "Everyone else left. The call ended.", "info"],
  removed: () => ["You left the call: you are no longer a member of this conversation.", "error"],
  revoked: () => ["You left the call: you were signed out.", "error"],
  consent: () => ["The call's media connection was lost. Join again to continue.", "error"],
  replaced: () => ["You left the call: you joined it, or another call, somewhere else.", "info"],
  server: () => ["The call ended because the server is restarting. Join again in a moment.", "error"],
};

export function leftMessage(reason, other) {
  return (LEFT_REASONS[reason] ?? (() => ["You are no longer in the call.", "error"]))(other);
}

export class CallController extends EventTarget {
  constructor({ api, socket, store }) {
    super();
    this.api = api;
    this.socket = socket;
    this.store = store;
    this.#reset();
    this.resizeObserver = new ResizeObserver(() => this.#updateQualities());
    document.addEventListener("visibilitychange", () => this.#updateQualities());
    const on = (type, handler) => socket.on(type, ({ data }) => {
      if (data && data.conversationId === this.conversationId) handler(data);
    });
    on("call.participants", (data) => {
      for (const p of data.participants ?? []) {
        this.participants.set(p.userId, { userId: p.userId, displayName: p.displayName });
        for (const track of p.tracks ?? []) this.remote.set(track.trackId, { ...track, userId: p.userId });
      }
      this.render();
    });
    on("call.participant.joined", (data) => {
      this.participants.set(data.userId, { userId: data.userId, displayName: null });
      this.render();
    });
    on("call.participant.left", (data) => {
      this.participants.delete(data.userId);
      for (const [trackId, track] of this.remote) if (track.userId === data.userId) this.remote.delete(trackId);
      // A DM call is between two people: when the other one hangs up it is over (Parley also says
      // so with `call.left` `alone`; whichever comes first ends it, the other finds nothing to end).
      if (this.#isDM() && data.userId !== this.store.me?.id && ![...this.participants.keys()].some((id) => id !== this.store.me?.id)) {
        showAlert(leftMessage("alone", this.#otherName())[0], { kind: "info" });
        this.leave();
        return;
      }
      this.render();
    });
    // A member answered the ring with "Decline" (in a DM `call.left` `declined` follows and says it).
    on("call.declined", (data) => {
      if (this.#isDM() || data.userId === this.store.me?.id) return;
      showAlert(`${this.store.displayName(this.conversationId, data.userId)} declined the call.`, { kind: "info" });
    });
    on("call.track.published", (data) => {
      this.remote.set(data.track.trackId, { ...data.track, userId: data.userId });
      if (!this.participants.has(data.userId)) this.participants.set(data.userId, { userId: data.userId, displayName: null });
      this.render();
    });
    on("call.track.unpublished", (data) => {
      this.remote.delete(data.track.trackId);
      this.render();
    });
    on("call.track.muted", (data) => {
      const known = this.remote.get(data.track.trackId);
      this.remote.set(data.track.trackId, { ...(known ?? {}), ...data.track, userId: data.userId });
      this.render();
    });
    on("call.active-speaker", (data) => {
      this.speakers = data.speakers ?? [];
      this.speaker = this.speakers[0] ?? null;
      this.#markSpeaker();
    });
    on("call.subscribe.offer", (data) => {
      this.offerChain = this.offerChain.then(() => this.#answer(data)).catch((error) => {
        console.error("answering call.subscribe.offer failed", error);
        showAlert(`The call could not receive the others' media: ${describeError(error)}`);
      });
    });
    // Parley ended this browser's part in the call and says why.
    on("call.left", (data) => {
      const [message, kind] = leftMessage(data.reason, this.#isDM() ? this.#otherName() : null);
      showAlert(message, { kind });
      this.#teardown();
    });
    // Parley may drop this browser from the call (its ICE consent lapsed, or a transport closed):
    // then `call.state` lists the call without it, and call frames get `not_in_call`.
    socket.on("call.state", ({ data }) => {
      if (data.conversationId !== this.conversationId || this.busy || !this.publishPc) return;
      if (!(data.participants ?? []).includes(this.store.me?.id)) {
        showAlert("You were disconnected from the call. Join again to continue.");
        this.#teardown();
      }
    });
    socket.on("error", ({ data }) => {
      if (data?.code === "not_in_call" && this.conversationId && !this.busy) this.#teardown();
    });
    socket.addEventListener("offline", () => {
      if (!this.conversationId) return;
      showAlert("The call ended because the connection to Parley was lost. Join again once it is back.");
      this.#teardown();
    });
    this.#bindControls();
  }

  #reset() {
    this.conversationId = null;
    this.busy = false;
    this.iceServers = [];
    this.localStream = null;
    this.screenStream = null;
    this.sending = [];              // [{transceiver, source}] on the publish connection
    this.ownTrackIds = new Map();   // source -> the server's trackId of this browser's track
    this.micMuted = false;
    this.cameraOff = false;
    this.publishPc = null;
    this.subscribePc = null;
    this.publishChain = Promise.resolve();
    this.offerChain = Promise.resolve();
    this.sections = new Map();      // mid -> {userId, trackId, kind} of the last subscribe offer
    this.participants = new Map();  // userId -> {userId, displayName}
    this.remote = new Map();        // trackId -> {trackId, userId, kind, source, muted}
    this.bound = new Map();         // trackId -> {mid, kind, userId, track}
    this.sentQuality = new Map();   // trackId -> quality last asked for
    this.tiles = new Map();         // key -> {node, video, label, state}
    this.audio = new Map();         // trackId -> <audio>
    this.speaker = null;
    this.speakers = [];
    this.focusedKey = null;         // the tile shown large (a screen share), or null
  }

  #isDM() {
    return this.store.conversations.get(this.conversationId)?.kind === "dm";
  }

  /** The other person of the DM this call is in. */
  #otherName() {
    return this.store.title(this.store.conversations.get(this.conversationId)) || null;
  }

  // MARK: joining and leaving

  /** Joins the call of `conversationId`; in another call already, only once the person confirms
   * leaving it (the others there would be left waiting). Returns whether it went on to join. */
  async join(conversationId) {
    if (this.busy || this.confirming) return false;
    if (this.conversationId === conversationId) return true;
    if (this.conversationId) {
      this.confirming = true;
      let confirmed;
      try {
        confirmed = await this.#confirmSwitch(this.conversationId, conversationId);
      } finally {
        this.confirming = false;
      }
      if (!confirmed || this.busy) return false;
      if (this.conversationId === conversationId) return true;
      await this.leave();
    }
    this.busy = true;
    this.conversationId = conversationId;
    this.store.callConversationId = conversationId;
    $("call-view").hidden = false;
    $("app-view").classList.add("in-call");
    $("call-title").textContent = `Call: ${this.store.title(this.store.conversations.get(conversationId))}`;
    this.#status("Joining\u2026");
    this.store.changed("conversations", conversationId);
    try {
      const config = await this.socket.request("call.join", { conversationId });
      this.iceServers = config.data.iceServers ?? [];
      const stream = await this.#getMedia();
      if (this.conversationId !== conversationId) {
        // Left (or dropped) while the browser asked for the camera: nothing may keep it on.
        stream?.getTracks().forEach((track) => track.stop());
        return;
      }
      this.localStream = stream;
      if (this.localStream) {
        const pc = this.#publishConnection();
        for (const track of this.localStream.getTracks()) {
          const init = { direction: "sendonly", streams: [this.localStream] };
          if (track.kind === "video") init.sendEncodings = SIMULCAST.map((e) => ({ ...e }));
          this.sending.push({ transceiver: pc.addTransceiver(track, init), source: track.kind === "audio" ? "microphone" : "camera" });
        }
        await this.#negotiatePublish();
      }
      this.#status("In call");
      this.render();
      this.#populateDevices();
      $("leave-call").focus();
    } catch (error) {
      showAlert(`Could not join the call: ${describeError(error)}`);
      if (this.conversationId === conversationId) await this.leave();
    } finally {
      this.busy = false;
      this.store.changed("conversations", conversationId);
    }
    return true;
  }

  /** Asks, in a modal dialog, whether to leave the current call for the one of `toId`. */
  #confirmSwitch(fromId, toId) {
    const title = (id) => this.store.title(this.store.conversations.get(id)) || "another conversation";
    let dialog = $("switch-call-dialog");
    if (!dialog) {
      dialog = h("dialog", { id: "switch-call-dialog", class: "dialog", "aria-labelledby": "switch-call-title", "aria-describedby": "switch-call-text" },
        h("h2", { id: "switch-call-title" }, "Leave your current call?"),
        h("p", { id: "switch-call-text" }),
        h("div", { class: "dialog-actions" },
          h("button", { type: "button", id: "switch-call-stay", autofocus: true }, "Stay in current call"),
          h("button", { type: "button", id: "switch-call-go", class: "primary" }, "Leave and join")));
      document.body.append(dialog);
    }
    $("switch-call-text").textContent = `You are in the call of ${title(fromId)}. Joining the call of ${title(toId)} `
      + "leaves it, and the others there stay without you.";
    return new Promise((resolve) => {
      const finish = (answer) => {
        $("switch-call-stay").removeEventListener("click", stay);
        $("switch-call-go").removeEventListener("click", go);
        dialog.removeEventListener("close", cancel);
        if (dialog.open) dialog.close();
        resolve(answer);
      };
      const stay = () => finish(false);
      const go = () => finish(true);
      const cancel = () => finish(false); // Escape
      $("switch-call-stay").addEventListener("click", stay);
      $("switch-call-go").addEventListener("click", go);
      dialog.addEventListener("close", cancel);
      dialog.showModal();
      $("switch-call-stay").focus();
    });
  }

  async leave() {
    if (!this.conversationId) return;
    this.socket.send("call.leave", { conversationId: this.conversationId });
    this.#teardown();
  }

  #teardown() {
    const conversationId = this.conversationId;
    for (const pc of [this.publishPc, this.subscribePc]) {
      try { pc?.close(); } catch { /* already closed */ }
    }
    for (const stream of [this.localStream, this.screenStream]) stream?.getTracks().forEach((t) => t.stop());
    this.resizeObserver.disconnect();
    for (const element of this.audio.values()) element.remove();
    $("call-grid").replaceChildren();
    $("call-view").hidden = true;
    $("app-view").classList.remove("in-call");
    this.#reset();
    this.store.callConversationId = null;
    this.store.changed("conversations", conversationId);
  }

  async #getMedia() {
    try {
      return await navigator.mediaDevices.getUserMedia({ audio: true, video: { width: { ideal: 640 }, height: { ideal: 480 } } });
    } catch (error) {
      try {
        const audioOnly = await navigator.mediaDevices.getUserMedia({ audio: true });
        showAlert(`Camera unavailable (${describeError(error)}); joining with the microphone only.`);
        return audioOnly;
      } catch {
        showAlert(`No microphone or camera (${describeError(error)}); you can see and hear the others but they cannot hear you.`);
        return null;
      }
    }
  }

  // MARK: the publish connection

  #publishConnection() {
    if (!this.publishPc) this.publishPc = this.#peerConnection("publish");
    return this.publishPc;
  }

  #peerConnection(role) {
    const pc = new RTCPeerConnection({ iceServers: this.iceServers, bundlePolicy: "max-bundle" });
    const conversationId = this.conversationId;
    pc.addEventListener("icecandidate", (event) => {
      // Parley is ICE-lite and may ignore these; sending them keeps the client correct anyway.
      if (!event.candidate?.candidate) return;
      const { candidate, sdpMid, sdpMLineIndex } = event.candidate;
      this.socket.send("call.candidate", { conversationId, pc: role, candidate: { candidate, sdpMid, sdpMLineIndex } });
    });
    pc.addEventListener("connectionstatechange", () => {
      if (pc.connectionState === "failed" && this.conversationId === conversationId) {
        showAlert(`The call's ${role === "publish" ? "sending" : "receiving"} connection failed. Leave and join again.`);
      }
      this.#status(pc.connectionState === "connected" || pc.connectionState === "new" ? "In call" : `Connection ${pc.connectionState}`);
    });
    return pc;
  }

  /** One publish offer/answer at a time; `tracks` names every sending transceiver's source. */
  #negotiatePublish() {
    const run = async () => {
      const pc = this.publishPc;
      const conversationId = this.conversationId;
      if (!pc || !conversationId) return;
      await pc.setLocalDescription(await pc.createOffer());
      const tracks = this.sending.filter(({ transceiver }) => transceiver.mid !== null && !transceiver.stopped && transceiver.currentDirection !== "stopped")
        .map(({ transceiver, source }) => ({ mid: transceiver.mid, source }));
      const answer = await this.socket.request("call.publish", { conversationId, sdp: pc.localDescription.sdp, tracks });
      if (pc.signalingState === "closed") return;
      await pc.setRemoteDescription({ type: "answer", sdp: answer.data.sdp });
      await this.#learnOwnTracks();
    };
    const result = this.publishChain.then(run);
    this.publishChain = result.catch(() => {});
    return result;
  }

  /** The server's ids for this browser's own tracks (for `call.mute`), from GET /conversations/{id}/call. */
  async #learnOwnTracks() {
    const conversationId = this.conversationId;
    const call = await this.api.call(conversationId);
    if (conversationId !== this.conversationId) return;
    const mine = call.participants?.find((p) => p.userId === this.store.me?.id);
    this.ownTrackIds.clear();
    for (const track of mine?.tracks ?? []) {
      this.ownTrackIds.set(track.source, track.trackId);
      const wanted = track.source === "microphone" ? this.micMuted : track.source === "camera" ? this.cameraOff : false;
      if (track.muted !== wanted) this.socket.send("call.mute", { conversationId, trackId: track.trackId, muted: wanted });
    }
  }

  // MARK: the subscribe connection

  async #answer({ sdp, revision }) {
    if (!this.conversationId) return;
    if (!this.subscribePc) {
      // Receivers are bound after the answer is sent (#bindTracks), so that quality wishes
      // reach the server after the down-tracks they name exist.
      this.subscribePc = this.#peerConnection("subscribe");
    }
    const pc = this.subscribePc;
    this.lastOffer = { sdp, revision }; // kept for diagnostics (window.parleyDebug.call())
    this.sections = describeSections(sdp);
    await pc.setRemoteDescription({ type: "offer", sdp });
    await pc.setLocalDescription(await pc.createAnswer());
    this.socket.send("call.subscribe.answer", { conversationId: this.conversationId, sdp: pc.localDescription.sdp, revision });
    this.#bindTracks();
  }

  /** Matches the subscribe connection's receivers to publishers by mid and the offer's msid. */
  #bindTracks() {
    const pc = this.subscribePc;
    if (!pc) return;
    const bound = new Map();
    for (const transceiver of pc.getTransceivers()) {
      const section = transceiver.mid === null ? undefined : this.sections.get(transceiver.mid);
      if (!section?.trackId || transceiver.stopped) continue;
      bound.set(section.trackId, { mid: section.mid, kind: section.kind, userId: section.userId, track: transceiver.receiver.track });
      if (section.userId && !this.participants.has(section.userId)) {
        this.participants.set(section.userId, { userId: section.userId, displayName: null });
      }
    }
    for (const trackId of this.sentQuality.keys()) if (!bound.has(trackId)) this.sentQuality.delete(trackId);
    this.bound = bound;
    this.render();
  }

  // MARK: rendering

  #name(userId) {
    return this.participants.get(userId)?.displayName ?? this.store.displayName(this.conversationId, userId);
  }

  render() {
    if (!this.conversationId) return;
    const me = this.store.me;
    const wanted = [];
    // This browser's own tile first.
    const ownVideo = this.localStream?.getVideoTracks()[0] ?? null;
    wanted.push(this.#tile(`self`, {
      userId: me.id, name: `${me.displayName} (you)`, track: this.cameraOff ? null : ownVideo, mirror: true,
      micMuted: this.micMuted || !this.localStream?.getAudioTracks().length, cameraOff: this.cameraOff || !ownVideo, local: true,
    }));
    if (this.screenStream) {
      wanted.push(this.#tile("self-screen", { userId: me.id, name: "Your screen", track: this.screenStream.getVideoTracks()[0], local: true, screen: true }));
    }
    const audioWanted = new Set();
    for (const userId of this.participants.keys()) {
      if (userId === me.id) continue;
      const tracks = [...this.bound.entries()].filter(([, b]) => b.userId === userId)
        .map(([trackId, b]) => ({ trackId, ...b, ...(this.remote.get(trackId) ?? {}), track: b.track }));
      const camera = tracks.find((t) => t.kind === "video" && (t.source ?? "camera") !== "screen");
      const micInfo = [...this.remote.values()].find((t) => t.userId === userId && t.kind === "audio");
      const cameraInfo = [...this.remote.values()].find((t) => t.userId === userId && t.kind === "video" && t.source !== "screen");
      wanted.push(this.#tile(`user:${userId}`, {
        userId, name: this.#name(userId), track: camera && !camera.muted ? camera.track : null, trackId: camera?.trackId,
        micMuted: !micInfo || micInfo.muted, cameraOff: !cameraInfo || cameraInfo.muted,
      }));
      for (const screen of tracks.filter((t) => t.kind === "video" && t.source === "screen")) {
        wanted.push(this.#tile(`screen:${screen.trackId}`, {
          userId, name: `${this.#name(userId)}'s screen`, track: screen.track, trackId: screen.trackId, screen: true,
        }));
      }
      for (const track of tracks.filter((t) => t.kind === "audio")) {
        audioWanted.add(track.trackId);
        if (!this.audio.has(track.trackId)) {
          const element = h("audio", { autoplay: true, class: "call-audio", "aria-hidden": "true" });
          element.srcObject = new MediaStream([track.track]);
          $("call-view").append(element);
          element.play().catch(() => {});
          this.audio.set(track.trackId, element);
        }
      }
    }
    for (const [trackId, element] of this.audio) {
      if (!audioWanted.has(trackId)) {
        element.remove();
        this.audio.delete(trackId);
      }
    }
    const keep = new Set(wanted.map((tile) => tile.key));
    for (const [key, tile] of this.tiles) {
      if (!keep.has(key)) {
        this.resizeObserver.unobserve(tile.video);
        this.tiles.delete(key);
      }
    }
    if (this.focusedKey && !keep.has(this.focusedKey)) this.focusedKey = null;
    for (const tile of wanted) {
      const focused = tile.key === this.focusedKey;
      tile.node.classList.toggle("focused", focused);
      if (tile.enlarge) tile.enlarge.setAttribute("aria-pressed", String(focused));
    }
    $("call-grid").classList.toggle("has-focused", Boolean(this.focusedKey));
    reconcile($("call-grid"), wanted.map((tile) => tile.node));
    $("call-grid").dataset.count = String(wanted.length);
    this.#markSpeaker();
    this.#syncControls();
    this.#updateQualities();
    const others = [...this.participants.keys()].filter((id) => id !== me.id).length;
    $("call-status").textContent = others > 0 ? `${others + 1} people in the call`
      : this.#isDM() ? `Calling ${this.#otherName()}\u2026` : "Waiting for others to join\u2026";
  }

  #tile(key, info) {
    let tile = this.tiles.get(key);
    if (!tile) {
      const video = h("video", { autoplay: true, playsinline: true, class: info.mirror ? "mirror" : null });
      video.muted = true; // sound plays through the separate audio elements
      const label = h("span", { class: "tile-name" });
      const flags = h("span", { class: "tile-flags" });
      const placeholder = h("span", { class: "tile-placeholder", "aria-hidden": "true" });
      const node = h("li", { class: "tile", dataset: { key, userId: info.userId } }, video, placeholder, h("div", { class: "tile-label" }, label, flags));
      tile = { key, node, video, label, flags, placeholder, track: null, trackId: null, enlarge: null };
      if (info.screen) {
        // A shared screen can be shown large: its button (keyboard) or a click on the picture;
        // Escape, or the button again, returns to the grid.
        tile.enlarge = h("button", { type: "button", class: "tile-enlarge small", "aria-pressed": "false",
          onclick: (event) => { event.stopPropagation(); this.toggleFocus(key); } }, "Enlarge");
        node.append(tile.enlarge);
        video.addEventListener("click", () => this.toggleFocus(key));
      }
      this.tiles.set(key, tile);
      if (!info.local) this.resizeObserver.observe(video);
    }
    tile.userId = info.userId;
    tile.trackId = info.trackId ?? null;
    tile.local = Boolean(info.local);
    if (tile.track !== info.track) {
      tile.track = info.track;
      tile.video.srcObject = info.track ? new MediaStream([info.track]) : null;
      if (info.track) tile.video.play().catch(() => {});
    }
    tile.node.classList.toggle("no-video", !info.track);
    tile.node.classList.toggle("screen", Boolean(info.screen));
    tile.label.textContent = info.name;
    if (tile.enlarge) tile.enlarge.setAttribute("aria-label", `Enlarge ${info.name}`);
    tile.placeholder.textContent = (info.name || "?").trim().charAt(0).toUpperCase();
    const flags = [];
    if (info.micMuted) flags.push("muted");
    if (info.cameraOff && !info.screen) flags.push("camera off");
    tile.flags.textContent = flags.length ? ` \u00b7 ${flags.join(", ")}` : "";
    tile.node.dataset.micMuted = info.micMuted ? "true" : "false";
    tile.baseLabel = [info.name, ...flags].join(", ");
    tile.node.setAttribute("aria-label", tile.baseLabel);
    return tile;
  }

  #markSpeaker() {
    for (const tile of this.tiles.values()) {
      const speaking = this.speaker !== null && tile.userId === this.speaker && !tile.key.startsWith("screen") && tile.key !== "self-screen";
      tile.node.classList.toggle("speaking", speaking);
      if (tile.baseLabel) tile.node.setAttribute("aria-label", speaking ? `${tile.baseLabel}, speaking` : tile.baseLabel);
    }
  }

  /** `call.quality` for each remote video from how big its tile is shown. */
  #updateQualities() {
    if (!this.conversationId) return;
    const hiddenPage = document.visibilityState === "hidden";
    for (const tile of this.tiles.values()) {
      if (tile.local || !tile.trackId || !this.bound.has(tile.trackId)) continue;
      const width = tile.video.getBoundingClientRect().width;
      const quality = qualityForWidth(width, hiddenPage || tile.video.offsetParent === null);
      if (this.sentQuality.get(tile.trackId) === quality) continue;
      this.sentQuality.set(tile.trackId, quality);
      this.socket.send("call.quality", { conversationId: this.conversationId, trackId: tile.trackId, quality });
    }
  }

  #status(text) {
    $("call-status").textContent = text;
  }

  // MARK: controls

  /** Shows the tile `key` large, or the grid again when it is already. */
  toggleFocus(key) {
    this.focusedKey = this.focusedKey === key ? null : key;
    this.render();
    this.tiles.get(key)?.enlarge?.focus();
  }

  #syncControls() {
    // Without a microphone or camera (none, or permission denied) there is nothing to mute or
    // turn off: the buttons say so and are disabled rather than offering what they cannot do.
    const hasMic = Boolean(this.localStream?.getAudioTracks().length);
    const hasCamera = Boolean(this.localStream?.getVideoTracks().length);
    const mic = $("mic-toggle");
    mic.disabled = !hasMic;
    mic.setAttribute("aria-pressed", String(hasMic && this.micMuted));
    mic.textContent = !hasMic ? "No microphone" : this.micMuted ? "Unmute microphone" : "Mute microphone";
    mic.title = hasMic ? "" : "The browser gives this page no microphone: the others cannot hear you.";
    const camera = $("camera-toggle");
    camera.disabled = !hasCamera;
    camera.setAttribute("aria-pressed", String(hasCamera && this.cameraOff));
    camera.textContent = !hasCamera ? "No camera" : this.cameraOff ? "Turn camera on" : "Turn camera off";
    camera.title = hasCamera ? "" : "The browser gives this page no camera: the others cannot see you.";
    const screen = $("screen-toggle");
    screen.setAttribute("aria-pressed", String(Boolean(this.screenStream)));
    screen.textContent = this.screenStream ? "Stop sharing screen" : "Share screen";
    screen.hidden = !navigator.mediaDevices?.getDisplayMedia;
  }

  #bindControls() {
    $("mic-toggle").addEventListener("click", () => this.setMicMuted(!this.micMuted));
    $("camera-toggle").addEventListener("click", () => this.setCameraOff(!this.cameraOff));
    $("screen-toggle").addEventListener("click", () => (this.screenStream ? this.stopScreen() : this.startScreen()));
    $("leave-call").addEventListener("click", () => this.leave());
    $("call-view").addEventListener("keydown", (event) => {
      if (event.key === "Escape" && this.focusedKey) {
        event.preventDefault();
        this.toggleFocus(this.focusedKey);
      }
    });
    $("mic-select").addEventListener("change", (event) => this.chooseDevice("audio", event.target.value));
    $("camera-select").addEventListener("change", (event) => this.chooseDevice("video", event.target.value));
  }

  setMicMuted(muted) {
    this.micMuted = muted;
    for (const track of this.localStream?.getAudioTracks() ?? []) track.enabled = !muted;
    this.#sendMute("microphone", muted);
    this.render();
  }

  setCameraOff(off) {
    this.cameraOff = off;
    for (const track of this.localStream?.getVideoTracks() ?? []) track.enabled = !off;
    this.#sendMute("camera", off);
    this.render();
  }

  #sendMute(source, muted) {
    const trackId = this.ownTrackIds.get(source);
    if (trackId) this.socket.send("call.mute", { conversationId: this.conversationId, trackId, muted });
  }

  async #populateDevices() {
    try {
      const devices = await navigator.mediaDevices.enumerateDevices();
      for (const [kind, selectId, track] of [["audioinput", "mic-select", this.localStream?.getAudioTracks()[0]],
        ["videoinput", "camera-select", this.localStream?.getVideoTracks()[0]]]) {
        const current = track?.getSettings().deviceId;
        const options = devices.filter((d) => d.kind === kind).map((d, index) =>
          h("option", { value: d.deviceId, selected: d.deviceId === current }, d.label || `${kind === "audioinput" ? "Microphone" : "Camera"} ${index + 1}`));
        $(selectId).replaceChildren(...options);
        $(selectId).disabled = options.length < 2 || !track;
      }
    } catch (error) {
      showAlert(`Could not list your devices: ${describeError(error)}`);
    }
  }

  async chooseDevice(kind, deviceId) {
    if (!this.localStream || !deviceId) return;
    const entry = this.sending.find(({ transceiver }) => transceiver.sender.track?.kind === kind);
    const old = kind === "audio" ? this.localStream.getAudioTracks()[0] : this.localStream.getVideoTracks()[0];
    try {
      const constraints = kind === "audio"
        ? { audio: { deviceId: { exact: deviceId } } }
        : { video: { deviceId: { exact: deviceId }, width: { ideal: 640 }, height: { ideal: 480 } } };
      const stream = await navigator.mediaDevices.getUserMedia(constraints);
      const track = stream.getTracks()[0];
      track.enabled = kind === "audio" ? !this.micMuted : !this.cameraOff;
      if (entry) await entry.transceiver.sender.replaceTrack(track);
      if (old) {
        this.localStream.removeTrack(old);
        old.stop();
      }
      this.localStream.addTrack(track);
      this.render();
    } catch (error) {
      showAlert(`Could not switch to that device: ${describeError(error)}`);
      this.#populateDevices();
    }
  }

  async startScreen() {
    if (!this.conversationId || this.screenStream) return;
    try {
      const stream = await navigator.mediaDevices.getDisplayMedia({ video: true, audio: false });
      const track = stream.getVideoTracks()[0];
      this.screenStream = stream;
      track.addEventListener("ended", () => this.stopScreen());
      const transceiver = this.#publishConnection().addTransceiver(track, { direction: "sendonly", streams: [stream] });
      this.sending.push({ transceiver, source: "screen" });
      this.render();
      await this.#negotiatePublish();
    } catch (error) {
      if (error?.name !== "NotAllowedError") showAlert(`Could not share your screen: ${describeError(error)}`);
      if (this.screenStream) await this.stopScreen();
    }
  }

  async stopScreen() {
    const stream = this.screenStream;
    if (!stream) return;
    this.screenStream = null;
    stream.getTracks().forEach((t) => t.stop());
    const entry = this.sending.find((s) => s.source === "screen");
    this.sending = this.sending.filter((s) => s !== entry);
    this.render();
    if (!entry || !this.publishPc) return;
    try {
      await entry.transceiver.sender.replaceTrack(null);
      entry.transceiver.stop(); // the next offer carries port 0 for it: Parley unpublishes the track
      await this.#negotiatePublish();
    } catch (error) {
      showAlert(`Could not stop sharing cleanly: ${describeError(error)}`);
    }
  }

  // MARK: read-only diagnostics (window.parleyDebug)

  async inboundStats() {
    const pc = this.subscribePc;
    if (!pc) return [];
    const report = await pc.getStats();
    const out = [];
    report.forEach((entry) => {
      if (entry.type !== "inbound-rtp") return;
      const section = entry.mid == null ? undefined : this.sections.get(entry.mid);
      out.push({
        kind: entry.kind, mid: entry.mid ?? null, userId: section?.userId ?? null, trackId: section?.trackId ?? null,
        packetsReceived: entry.packetsReceived ?? 0, framesDecoded: entry.framesDecoded ?? 0,
        frameWidth: entry.frameWidth ?? 0, frameHeight: entry.frameHeight ?? 0,
        totalSamplesReceived: entry.totalSamplesReceived ?? 0,
      });
    });
    return out;
  }

  async outboundStats() {
    const pc = this.publishPc;
    if (!pc) return [];
    const report = await pc.getStats();
    const out = [];
    report.forEach((entry) => {
      if (entry.type === "outbound-rtp") {
        out.push({ kind: entry.kind, mid: entry.mid ?? null, rid: entry.rid ?? null, packetsSent: entry.packetsSent ?? 0,
          framesEncoded: entry.framesEncoded ?? 0, frameWidth: entry.frameWidth ?? 0 });
      }
    });
    return out;
  }

  snapshot() {
    return {
      conversationId: this.conversationId,
      speakers: this.speakers,
      participants: [...this.participants.keys()],
      ownTrackIds: Object.fromEntries(this.ownTrackIds),
      tiles: [...this.tiles.values()].map((t) => ({ key: t.key, userId: t.userId, trackId: t.trackId, hasVideo: Boolean(t.track),
        speaking: t.node.classList.contains("speaking"), label: t.node.getAttribute("aria-label") })),
      quality: Object.fromEntries(this.sentQuality),
      publish: this.publishPc?.connectionState ?? null,
      subscribe: this.subscribePc?.connectionState ?? null,
      lastOffer: this.lastOffer ?? null,
      appliedOffer: this.subscribePc?.remoteDescription?.sdp ?? null,
      sending: this.sending.map(({ transceiver, source }) => ({ mid: transceiver.mid, source })),
      focusedKey: this.focusedKey,
    };
  }
}
