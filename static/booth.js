// Boothsite kiosk: pairing, live preview, smile scoring over a WebSocket, countdown and
// auto snaps, uploads that survive a lost connection (IndexedDB), sharing by QR or SMS.
//
// A session's life: Start → (auto mode) a "Get ready" 3-2-1, then frames stream for the
// smile score → every snap, by smile or by the Snap button, shows a count and the flash
// → once the session's snaps are taken (the event's captures_per_session) frames stop
// and no snap is tried → the share screen → Done (or idle) → the attract screen.
"use strict";
(function () {
  const TOKEN_KEY = "boothsite.booth_token";
  const IDLE_MS = 60000;
  const FRAME_MS = 250;
  const GET_READY_STEPS = 3; // "Get ready" 3-2-1, one a second, before auto mode arms
  const SMILE_CUE_MS = 350; // a smile's snap counts 3-2-1 too, quicker: the smile is there
  const $ = (id) => document.getElementById(id);
  const state = {
    token: localStorage.getItem(TOKEN_KEY), booth: null, session: null, taken: 0,
    socket: null, lastScore: 0, snapping: false, idleTimer: null, frameTimer: null,
    armed: false, // auto mode is on and its get-ready count is over: frames stream
    cue: { run: 0, kind: null }, // the count on screen ("get-ready" or "snap"), if any
  };

  // ---- small helpers ----------------------------------------------------------------
  function show(id) {
    for (const el of document.querySelectorAll(".screen")) el.hidden = el.id !== id;
  }
  function say(text) { $("booth-status").textContent = text || ""; }
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
  function el(tag, attrs, children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
    for (const child of children || []) node.append(child);
    return node;
  }
  class HttpError extends Error {
    constructor(message, status, code) { super(message); this.status = status; this.code = code; }
  }
  function errorText(data, fallback) {
    if (data && data.detail) return data.detail;
    if (data && typeof data === "object") return Object.values(data).flat().join(" ");
    return fallback;
  }
  // One Idempotency-Key per action (an upload, a finish, a share), kept with the action
  // in the offline queue: a re-sent action gets the first answer, not a second photo or
  // SMS. crypto.randomUUID needs a secure context; getRandomValues works on plain http.
  function newKey() {
    if (crypto.randomUUID) return crypto.randomUUID();
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    const hex = [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  }
  async function api(method, path, body, key) {
    const headers = { Authorization: "Booth " + state.token };
    if (key) headers["Idempotency-Key"] = key;
    let payload = body;
    if (body && !(body instanceof FormData)) {
      headers["Content-Type"] = "application/json";
      payload = JSON.stringify(body);
    }
    const response = await fetch("/api/v1/booth/" + path, { method, headers, body: payload });
    const data = response.headers.get("Content-Type") === "application/json" ? await response.json() : null;
    if (!response.ok) throw new HttpError(errorText(data, response.statusText), response.status, data && data.code);
    return data;
  }

  // ---- offline queue (IndexedDB): uploads and finishes wait for the connection ---------
  const queue = {
    db: null,
    open() {
      return new Promise((resolve, reject) => {
        const request = indexedDB.open("boothsite", 1);
        request.onupgradeneeded = () => request.result.createObjectStore("requests", { keyPath: "id", autoIncrement: true });
        request.onsuccess = () => { this.db = request.result; resolve(); };
        request.onerror = () => reject(request.error);
      });
    },
    tx(mode) { return this.db.transaction("requests", mode).objectStore("requests"); },
    add(item) {
      return new Promise((resolve) => { const r = this.tx("readwrite").add(item); r.onsuccess = () => resolve(); });
    },
    all() {
      return new Promise((resolve) => { const r = this.tx("readonly").getAll(); r.onsuccess = () => resolve(r.result); });
    },
    remove(id) {
      return new Promise((resolve) => { const r = this.tx("readwrite").delete(id); r.onsuccess = () => resolve(); });
    },
  };
  // The request body of a queued or live item: the multipart form of a capture upload,
  // else its JSON. The one place that knows the upload's form fields.
  function formOf(item) {
    const form = new FormData();
    form.append("image", item.blob, "snap.jpg");
    form.append("trigger", item.trigger);
    if (item.smile !== null) form.append("smile_score", String(item.smile));
    return form;
  }
  function bodyOf(item) {
    return item.blob ? formOf(item) : item.json || null;
  }
  let flushing = false;
  async function showQueue() {
    const count = (await queue.all()).length;
    $("queue-badge").hidden = count === 0;
    $("queue-badge").textContent = count + (count === 1 ? " photo waiting to upload" : " items waiting to upload");
    reportQueue(count);
  }
  // The console's monitor shows how many uploads wait here: tell the server over the
  // socket whenever the count changes, and once each time the socket opens.
  function reportQueue(count) {
    if (count !== undefined) state.queued = count;
    const socket = state.socket;
    if (state.queued === undefined || !socket || socket.readyState !== WebSocket.OPEN) return;
    if (state.reportedQueue === state.queued) return;
    socket.send(JSON.stringify({ type: "queue", pending: state.queued }));
    state.reportedQueue = state.queued;
  }
  async function flushQueue() {
    if (flushing || !state.token) return;
    flushing = true;
    try {
      for (const item of await queue.all()) {
        try {
          await api("POST", item.path, bodyOf(item), item.key);
        } catch (e) {
          if (!(e instanceof HttpError) || retryLater(e)) break; // still offline: keep order
        }
        await queue.remove(item.id);
      }
    } finally {
      flushing = false;
      showQueue();
    }
  }
  // 5xx (storage down: 503) and "the first request with this key still runs" (409) are
  // worth sending again with the same key; any other answer is final.
  function retryLater(e) {
    return e.status >= 500 || e.code === "idempotency_key_in_use";
  }
  async function send(path, action) {
    const item = { ...action, key: action.key || newKey() };
    try {
      await flushQueue();
      if ((await queue.all()).length) throw new TypeError("queue not empty");
      const result = await api("POST", path, bodyOf(item), item.key);
      return result;
    } catch (e) {
      if (e instanceof HttpError && !retryLater(e)) throw e;
      await queue.add({ ...item, path });
      showQueue();
      return null;
    }
  }

  // ---- pairing --------------------------------------------------------------------------
  async function pair(code) {
    const response = await fetch("/api/v1/booth/pair/", {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ code }),
    });
    const data = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(errorText(data, "Pairing failed."));
    state.token = data.token;
    localStorage.setItem(TOKEN_KEY, state.token);
  }
  function unpaired(message) {
    localStorage.removeItem(TOKEN_KEY);
    state.token = null;
    if (message) { $("pair-error").textContent = message; $("pair-error").hidden = false; }
    show("unpaired");
  }

  // ---- camera ---------------------------------------------------------------------------
  async function startCamera(camera) {
    const stream = await navigator.mediaDevices.getUserMedia({
      video: { width: { ideal: camera.width }, height: { ideal: camera.height } }, audio: false,
    });
    $("preview").srcObject = stream;
    await applyCamera(camera);
  }
  // Apply camera settings to the running camera: from me/ at start, and live when the
  // organiser saves them in the console ({"type": "camera"} over the socket).
  async function applyCamera(camera) {
    const video = $("preview");
    video.classList.toggle("mirrored", Boolean(camera.mirror));
    const track = video.srcObject ? video.srcObject.getVideoTracks()[0] : null;
    if (!track) return;
    const supported = track.getCapabilities ? track.getCapabilities() : {};
    const advanced = {};
    for (const key of ["brightness", "contrast", "zoom"]) {
      const range = supported[key];
      if (camera[key] === null || camera[key] === undefined || !range) continue;
      advanced[key] = Math.min(range.max ?? Infinity, Math.max(range.min ?? -Infinity, camera[key]));
    }
    const constraints = { width: { ideal: camera.width }, height: { ideal: camera.height } };
    if (Object.keys(advanced).length) constraints.advanced = [advanced];
    await track.applyConstraints(constraints).catch(() => {});
  }
  function grab(maxWidth, quality) {
    const video = $("preview");
    const scale = Math.min(1, maxWidth / (video.videoWidth || maxWidth));
    const canvas = el("canvas");
    canvas.width = Math.round((video.videoWidth || 640) * scale);
    canvas.height = Math.round((video.videoHeight || 480) * scale);
    canvas.getContext("2d").drawImage(video, 0, 0, canvas.width, canvas.height);
    return new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", quality));
  }

  // ---- live smile scoring -----------------------------------------------------------------
  async function connectSocket() {
    try {
      const { ticket } = await api("POST", "socket-ticket/");
      const scheme = location.protocol === "https:" ? "wss://" : "ws://";
      const socket = new WebSocket(scheme + location.host + "/ws/booth/", ["boothsite.v1", "ticket." + ticket]);
      socket.binaryType = "arraybuffer";
      socket.onopen = () => {
        $("connection").textContent = "Live";
        state.reportedQueue = undefined;
        reportQueue();
        if (state.socketOpened) syncCamera(); // settings saved while the socket was down
        state.socketOpened = true;
      };
      socket.onclose = (event) => onSocketClose(event.code);
      socket.onmessage = (event) => onSocketMessage(JSON.parse(event.data));
      state.socket = socket;
    } catch (e) {
      if (e instanceof HttpError && e.status === 401) return unpaired(REVOKED_TEXT);
      $("connection").textContent = "Offline";
      setTimeout(connectSocket, 5000);
    }
  }
  // The server's close codes (captures/consumers.py): 4003 the booth was revoked, its
  // token rotated or it was paired again; 4013 live scoring is unavailable (Redis down),
  // try again later; anything else (1000, 1006, 1011, 4000, 4008, 4009): reconnect.
  const REVOKED_TEXT = "This booth was unpaired or revoked. Pair it again.";
  async function onSocketClose(code) {
    state.socket = null;
    if (code === 4003) {
      // Our token may be dead (revoked or rotated), or this kiosk was just paired again.
      try { await api("GET", "me/"); } catch (e) {
        if (e instanceof HttpError && e.status === 401) return unpaired(REVOKED_TEXT);
      }
    }
    $("connection").textContent = code === 4013 ? "Live scoring paused…" : "Reconnecting…";
    setTimeout(connectSocket, code === 4013 ? 5000 : code === 4003 ? 0 : 3000);
  }
  function onSocketMessage(message) {
    if (message.type === "smile") {
      state.lastScore = message.score;
      $("meter-fill").style.width = Math.round(message.score * 100) + "%";
    } else if (message.type === "trigger") {
      if (autoLive()) snap("smile");
    } else if (message.type === "capture.ready") {
      if (state.session && message.session === state.session.id) refreshSession();
    } else if (message.type === "camera") {
      state.booth.camera = message.camera;
      applyCamera(message.camera);
    }
  }
  async function syncCamera() {
    try {
      const booth = await api("GET", "me/");
      state.booth.camera = booth.camera;
      applyCamera(booth.camera);
    } catch (e) { /* offline: keep the settings we have */ }
  }
  // Frames go out only while a smile can snap: a session still taking photos, auto mode
  // on and armed, no snap under way. Not on the attract or share screens, not during a
  // count, not once the session's photos are all taken.
  function autoLive() {
    return sessionOpen() && state.armed && $("auto").checked && !state.snapping;
  }
  function streamFrames() {
    clearInterval(state.frameTimer);
    state.frameTimer = setInterval(async () => {
      const socket = state.socket;
      if (!socket || socket.readyState !== WebSocket.OPEN || !autoLive() || socket.bufferedAmount > 0) return;
      const frame = await grab(640, 0.7);
      if (frame && autoLive() && socket.readyState === WebSocket.OPEN) socket.send(await frame.arrayBuffer());
    }, FRAME_MS);
  }

  // ---- the session --------------------------------------------------------------------------
  function resetIdle() {
    clearTimeout(state.idleTimer);
    state.idleTimer = setTimeout(toAttract, IDLE_MS);
  }
  function toAttract() {
    cancelCue();
    state.session = null;
    state.taken = 0;
    state.armed = false;
    for (const id of ["drawer", "share-drawer", "qr"]) $(id).replaceChildren();
    $("strip-box").replaceChildren(el("p", { id: "strip-status" }, ["Making your strip…"]));
    $("phone").value = "";
    $("sms-status").textContent = "";
    $("email").value = "";
    $("email-status").textContent = "";
    shareVia("sms", false);
    $("attract").hidden = false;
    $("live-controls").hidden = true;
    say("");
    show("stage");
  }
  async function startSession() {
    resetIdle();
    try {
      state.session = await api("POST", "sessions/");
    } catch (e) {
      say(e.status === 409 ? e.message : "Cannot start: " + e.message);
      return;
    }
    state.taken = 0;
    state.armed = false;
    $("attract").hidden = true;
    $("live-controls").hidden = false;
    $("auto").checked = Boolean(state.booth.event && state.booth.event.auto_snap);
    $("meter-fill").style.width = "0";
    $("meter-mark").style.left = Math.round(state.session.event.smile_threshold * 100) + "%";
    updateShotsLeft();
    if ($("auto").checked) armAuto();
    else say("Press Snap when you are ready.");
  }
  // The session still takes photos: started, and fewer taken than the event allows.
  function sessionOpen() {
    return Boolean(state.session) && state.taken < state.session.event.captures_per_session;
  }
  function updateShotsLeft() {
    const left = state.session.event.captures_per_session - state.taken;
    $("shots-left").textContent = left + (left === 1 ? " photo left" : " photos left");
  }
  // The one count a guest watches, in #countdown: "Get ready" 3-2-1 before auto mode
  // arms, and a count before every snap. Resolves true when it ran to the end, false
  // when a newer count, Done or the end of the session cancelled it.
  async function cue(kind, label, steps, stepMs) {
    const run = state.cue.run + 1;
    state.cue = { run, kind };
    const box = $("countdown");
    $("countdown-label").textContent = label;
    box.classList.toggle("get-ready", kind === "get-ready");
    for (let step = Math.max(1, steps); step > 0; step--) {
      $("countdown-number").textContent = step;
      box.hidden = false;
      await sleep(stepMs);
      if (state.cue.run !== run) return false;
    }
    box.hidden = true;
    state.cue = { run, kind: null };
    return true;
  }
  function cancelCue() {
    state.cue = { run: state.cue.run + 1, kind: null };
    $("countdown").hidden = true;
  }
  // Auto mode arms after the get-ready count, so a guest can pose before a smile snaps.
  async function armAuto() {
    state.armed = false;
    if (!sessionOpen() || !$("auto").checked || state.snapping) return;
    say("Get ready…");
    const counted = await cue("get-ready", "Get ready", GET_READY_STEPS, 1000);
    if (!counted || !sessionOpen() || !$("auto").checked || state.snapping) return;
    state.armed = true;
    say("Smile, or press Snap!");
  }
  function autoChanged() {
    if (!state.session) return;
    resetIdle();
    if ($("auto").checked) return armAuto();
    state.armed = false;
    if (state.cue.kind === "get-ready") cancelCue();
    say("Press Snap when you are ready.");
  }
  async function snap(trigger) {
    if (!sessionOpen() || state.snapping) return;
    const session = state.session;
    state.snapping = true;
    state.armed = false;
    $("snap").disabled = true;
    resetIdle();
    let more = false;
    try {
      const smile = trigger === "smile";
      const steps = smile ? 3 : session.event.countdown_seconds;
      if (!(await cue("snap", "", steps, smile ? SMILE_CUE_MS : 1000)) || state.session !== session) return;
      $("flash").hidden = false;
      setTimeout(() => { $("flash").hidden = true; }, 250);
      const blob = await grab(1920, 0.92);
      const item = { blob, trigger, smile: smile ? state.lastScore : null };
      const shot = el("li", { class: "shot pending" }, [el("img", { src: URL.createObjectURL(blob), alt: "Snap " + (state.taken + 1) })]);
      $("drawer").append(shot);
      state.taken += 1;
      updateShotsLeft();
      const capture = await send("sessions/" + session.id + "/captures/", item);
      shot.dataset.capture = capture ? capture.id : "";
      if (capture) waitForVariants(capture.id, 0);
      if (state.session !== session) return; // Done or idle while it uploaded
      say(capture ? "Got it!" : "Saved on this booth; it will upload when the connection is back.");
      more = sessionOpen();
      if (!more) await finish();
    } catch (e) {
      say(e.message);
    } finally {
      state.snapping = false;
      $("snap").disabled = false;
      if (more) armAuto();
    }
  }
  async function refreshSession() {
    if (!state.session) return null;
    try {
      const session = await api("GET", "sessions/" + state.session.id + "/");
      renderDrawer(session);
      return session;
    } catch (e) {
      return null;
    }
  }
  // Render status polling: every second for the first minute, then every 5 s while the
  // server still says "pending" (a render queued again after an outage), for 10 minutes.
  const POLL_FAST_TRIES = 60;
  const POLL_SLOW_TRIES = 120;
  function pollDelay(tries) { return tries < POLL_FAST_TRIES ? 1000 : 5000; }
  // capture.ready over the socket updates the drawer at once; polling covers a socket
  // that is down.
  async function waitForVariants(captureId, tries) {
    const shot = document.querySelector(`#drawer [data-capture="${captureId}"]`);
    if (!shot || shot.querySelector(".variants, .shot-note")) return;
    if (tries >= POLL_FAST_TRIES + POLL_SLOW_TRIES) {
      shot.append(el("p", { class: "shot-note shot-wait" }, ["Still working on the filters: they will be on your link."]));
      return;
    }
    await refreshSession();
    setTimeout(() => waitForVariants(captureId, tries + 1), pollDelay(tries));
  }
  function renderDrawer(session) {
    for (const capture of session.captures) {
      const shot = document.querySelector(`#drawer [data-capture="${capture.id}"]`);
      if (!shot) continue;
      shot.classList.toggle("pending", capture.status === "pending");
      if (capture.status === "failed") {
        for (const note of shot.querySelectorAll(".shot-wait")) note.remove();
        if (!shot.querySelector(".shot-note")) {
          shot.append(el("p", { class: "shot-note", role: "status" }, ["The filters could not be made for this photo. The photo itself is saved."]));
        }
      } else if (capture.status !== "pending" && !shot.querySelector(".variants")) {
        for (const note of shot.querySelectorAll(".shot-note")) note.remove();
        const list = el("ul", { class: "variants" });
        for (const variant of capture.variants) {
          list.append(el("li", {}, [el("a", { href: variant.url, download: "" }, [el("img", { src: variant.thumbnail_url, alt: variant.name })])]));
        }
        shot.append(list);
      }
    }
  }
  async function finish() {
    const session = state.session;
    show("share");
    $("share-link").href = session.share_url;
    $("download-all").href = session.download_url;
    const finished = await send("sessions/" + session.id + "/finish/", { json: {} });
    try {
      const svg = await fetch("/api/v1/booth/sessions/" + session.id + "/qr.svg", { headers: { Authorization: "Booth " + state.token } });
      if (svg.ok) $("qr").innerHTML = await svg.text();
    } catch (e) { /* offline: the link below still works later */ }
    if (finished === null) {
      $("strip-status").textContent = "Your strip will be made when the booth is back online.";
      return;
    }
    pollStrip(session.id, 0);
  }
  async function pollStrip(sessionId, tries) {
    if (!state.session || state.session.id !== sessionId) return;
    const session = await refreshSession();
    if (session && session.ready) {
      const box = $("strip-box");
      box.replaceChildren();
      // A wide strip (horizontal_4) takes the width, a tall one (classic_2x6) the height
      // left: the share screen's CSS lays out one or both without scrolling.
      for (const strip of session.strips) {
        if (strip.status !== "ready") continue;
        const shape = strip.width >= strip.height ? "strip-wide" : "strip-tall";
        const image = el("img", { src: strip.thumbnail_url, alt: "Your photo strip", class: "strip-image", width: strip.width, height: strip.height });
        box.append(el("a", { href: strip.url, download: "", class: "strip-link " + shape }, [image]));
      }
      if (session.strips.some((strip) => strip.status === "failed")) {
        box.append(el("p", { id: "strip-status", role: "status" }, ["Sorry, your strip could not be made. Your photos are all on your link."]));
      }
      const list = $("share-drawer");
      list.replaceChildren();
      for (const capture of session.captures) {
        list.append(el("li", {}, [el("a", { href: capture.url, download: "" }, [el("img", { src: capture.thumbnail_url, alt: "Photo" })])]));
      }
      return;
    }
    const status = $("strip-status");
    if (tries >= POLL_FAST_TRIES + POLL_SLOW_TRIES) {
      if (status) status.textContent = "Your strip is taking longer than usual. It will be on your link when it is ready.";
      return;
    }
    if (tries === POLL_FAST_TRIES && status) status.textContent = "Still making your strip… It will be on your link too.";
    setTimeout(() => pollStrip(sessionId, tries + 1), pollDelay(tries));
  }
  async function sendSms(event) {
    event.preventDefault();
    resetIdle();
    const phone = $("phone").value.trim();
    if (!phone) { $("sms-status").textContent = "Enter your mobile number, starting with + and your country code."; return; }
    $("sms-status").textContent = "Sending…";
    try {
      const sent = await send("sessions/" + state.session.id + "/share/sms/", { json: { phone } });
      $("sms-status").textContent = sent ? "Sent! Check your phone." : "Saved; the text goes out when the booth is back online.";
    } catch (e) {
      $("sms-status").textContent = e.message;
    }
  }

  // The share screen offers one of SMS and email at a time (the other is one tap away),
  // so the screen keeps its height on every kiosk size.
  function shareVia(via, focus) {
    $("sms-share").hidden = via !== "sms";
    $("email-share").hidden = via !== "email";
    if (focus) $(via === "sms" ? "phone" : "email").focus();
  }
  async function sendEmail(event) {
    event.preventDefault();
    resetIdle();
    const email = $("email").value.trim();
    if (!email) { $("email-status").textContent = "Enter your email address."; return; }
    $("email-status").textContent = "Sending…";
    try {
      const sent = await send("sessions/" + state.session.id + "/share/email/", { json: { email } });
      // Cleared once taken: the next guest at this kiosk should not read the address.
      $("email").value = "";
      $("email-status").textContent = sent ? "Sent! Check your inbox." : "Saved; the email goes out when the booth is back online.";
    } catch (e) {
      $("email-status").textContent = e.message;
    }
  }

  // ---- start ---------------------------------------------------------------------------------
  async function start() {
    await queue.open();
    showQueue();
    const fragment = new URLSearchParams(location.hash.slice(1));
    if (fragment.get("pair")) {
      history.replaceState(null, "", location.pathname);
      try { await pair(fragment.get("pair")); } catch (e) { return unpaired(e.message); }
    }
    if (!state.token) return unpaired();
    try {
      state.booth = await api("GET", "me/");
    } catch (e) {
      if (e.status === 401) return unpaired("This booth was unpaired or revoked. Pair it again.");
      say("Offline: " + e.message);
      state.booth = { event: null, camera: { width: 1280, height: 720, mirror: true } };
    }
    const event = state.booth.event;
    $("event-name").textContent = event ? event.name : "This booth is not assigned to an event.";
    const welcome = event ? event.welcome_text : "Ask the organiser to assign an event.";
    $("welcome").textContent = welcome;
    $("welcome").classList.toggle("long", welcome.length > 24);
    if (event) document.documentElement.style.setProperty("--accent", event.brand_color);
    showLogo(event);
    $("start").disabled = !event;
    toAttract();
    try { await startCamera(state.booth.camera); } catch (e) { say("The camera is not available: " + e.message); }
    connectSocket();
    streamFrames();
    flushQueue();
    setInterval(flushQueue, 5000);
  }

  function showLogo(event) {
    const logo = $("event-logo");
    logo.hidden = true;
    if (!event || !event.logo_url) return;
    logo.onload = () => { logo.hidden = false; };
    logo.alt = event.name;
    logo.src = event.logo_url;
  }

  $("pair-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    try { await pair($("pair-code").value.trim()); $("pair-error").hidden = true; start(); } catch (e) { $("pair-error").textContent = e.message; $("pair-error").hidden = false; }
  });
  $("start").addEventListener("click", startSession);
  $("snap").addEventListener("click", () => snap("countdown"));
  $("auto").addEventListener("change", autoChanged);
  $("sms-form").addEventListener("submit", sendSms);
  $("email-form").addEventListener("submit", sendEmail);
  for (const button of document.querySelectorAll("[data-share-via]")) {
    button.addEventListener("click", () => { resetIdle(); shareVia(button.dataset.shareVia, true); });
  }
  $("done").addEventListener("click", toAttract);
  window.addEventListener("online", flushQueue);
  for (const type of ["pointerdown", "keydown"]) document.addEventListener(type, () => { if (state.session) resetIdle(); });
  start();
})();
