// Boothsite console: the live booth monitor. Opens the monitor socket
// (/ws/console/<organiser>/[<event>/], captures/monitor.py) and keeps each booth's card up
// to date from what the server pushes: a snapshot first, then presence, smile, trigger,
// queue and capture messages. Nothing is polled: the only timers redraw relative times
// ("12 s ago"), expire a booth whose presence was not refreshed in time (a server that
// died without closing its sockets), and reconnect with backoff after a lost connection.
"use strict";
(function () {
  const list = document.getElementById("monitor-booths");
  if (!list) return;
  const feed = document.getElementById("monitor-captures");
  const status = document.getElementById("monitor-connection");
  const boothTemplate = document.getElementById("monitor-booth-template");
  const captureTemplate = document.getElementById("monitor-capture-template");
  const SPARK_POINTS = 30; // one bar per smile update (about one a second)
  const MAX_CAPTURES = 24;
  const TRIGGER_MS = 3000;
  const BACKOFF_MS = [1000, 2000, 4000, 8000, 15000, 30000];
  const booths = new Map(); // booth hex -> { card, state, spark: [], expires: ms|null }
  let socket = null;
  let failures = 0;
  let stopped = false;

  // ---- small helpers ----------------------------------------------------------------
  const field = (card, name) => card.querySelector(`[data-field="${name}"]`);
  function ago(iso) {
    if (!iso) return null;
    const seconds = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
    if (seconds < 5) return "just now";
    if (seconds < 60) return seconds + " s ago";
    if (seconds < 3600) return Math.floor(seconds / 60) + " min ago";
    if (seconds < 86400) return Math.floor(seconds / 3600) + " h ago";
    return new Date(iso).toLocaleDateString();
  }
  function timeNode(iso, fallback) {
    if (!iso) return document.createTextNode(fallback);
    const node = document.createElement("time");
    node.dateTime = iso;
    node.textContent = ago(iso);
    return node;
  }
  function say(text, state) {
    status.textContent = text;
    status.dataset.state = state;
  }

  // ---- booth cards ------------------------------------------------------------------
  function cardFor(id) {
    let entry = booths.get(id);
    if (entry) return entry;
    let card = list.querySelector(`[data-booth="${id}"]`);
    if (!card) {
      card = boothTemplate.content.firstElementChild.cloneNode(true);
      card.dataset.booth = id;
      list.append(card);
    }
    entry = { card, state: {}, spark: [], expires: null };
    booths.set(id, entry);
    document.getElementById("monitor-no-booths").hidden = true;
    return entry;
  }
  function update(id, changes) {
    const entry = cardFor(id);
    const state = Object.assign(entry.state, changes);
    const card = entry.card;
    if (state.name !== undefined) field(card, "name").textContent = state.name;
    if ("event_name" in changes) field(card, "event_name").textContent = state.event_name || "Not assigned to an event";
    if ("online" in changes) {
      card.dataset.online = state.online ? "true" : "false";
      field(card, "presence").textContent = state.online ? "Online" : "Offline";
      entry.expires = state.online && state.expires_in ? Date.now() + state.expires_in * 1000 : null;
    }
    if ("last_seen_at" in changes) field(card, "last_seen").replaceChildren(timeNode(state.last_seen_at, "Never"));
    if ("last_frame_at" in changes) field(card, "last_frame").replaceChildren(timeNode(state.last_frame_at, "—"));
    if ("pending" in changes) {
      const pending = state.pending;
      field(card, "pending").textContent = pending === null || pending === undefined ? "—" : String(pending);
      card.classList.toggle("has-pending", Boolean(pending));
    }
    if ("last_capture" in changes) showLastCapture(card, state);
  }
  function showLastCapture(card, state) {
    const box = field(card, "last_capture");
    const capture = state.last_capture;
    if (!capture) { box.replaceChildren(Object.assign(document.createElement("span"), { textContent: "No capture yet" })); return; }
    const parts = [];
    if (capture.thumbnail_url) {
      const image = Object.assign(document.createElement("img"), { src: capture.thumbnail_url, alt: "Last capture of " + (state.name || "this booth"), width: 96, height: 72 });
      parts.push(image);
    }
    const caption = document.createElement("span");
    caption.append("Last capture ", timeNode(capture.taken_at, ""));
    parts.push(caption);
    box.replaceChildren(...parts);
  }
  function smile(message) {
    const entry = cardFor(message.booth);
    const card = entry.card;
    const percent = Math.round(message.score * 100);
    const meter = field(card, "meter");
    meter.setAttribute("aria-valuenow", String(percent));
    meter.firstElementChild.style.width = percent + "%";
    field(card, "score").textContent = percent + "%";
    entry.spark.push(Math.round((message.peak ?? message.score) * 100));
    if (entry.spark.length > SPARK_POINTS) entry.spark.shift();
    drawSpark(entry);
    update(message.booth, { last_frame_at: message.at });
  }
  function drawSpark(entry) {
    const box = field(entry.card, "spark");
    const bars = entry.spark.map((value) => {
      const bar = document.createElement("span");
      bar.style.height = Math.max(4, value) + "%";
      return bar;
    });
    box.replaceChildren(...bars);
  }
  function trigger(message) {
    const entry = cardFor(message.booth);
    const badge = field(entry.card, "trigger");
    badge.hidden = false;
    entry.card.classList.add("triggered");
    clearTimeout(entry.triggerTimer);
    entry.triggerTimer = setTimeout(() => { badge.hidden = true; entry.card.classList.remove("triggered"); }, TRIGGER_MS);
  }

  // ---- the capture feed ---------------------------------------------------------------
  function addCapture(capture, atEnd) {
    if (feed.querySelector(`[data-capture="${capture.capture}"]`)) return;
    const item = captureTemplate.content.firstElementChild.cloneNode(true);
    item.dataset.capture = capture.capture;
    const image = item.querySelector("img");
    if (capture.thumbnail_url) {
      image.src = capture.thumbnail_url;
      image.alt = "Photo from " + capture.booth_name;
    } else {
      image.remove();
    }
    item.querySelector('[data-field="booth_name"]').textContent = capture.booth_name;
    item.querySelector("time").replaceWith(timeNode(capture.taken_at, ""));
    if (atEnd) feed.append(item); else feed.prepend(item);
    while (feed.children.length > MAX_CAPTURES) feed.lastElementChild.remove();
    document.getElementById("monitor-no-captures").hidden = true;
  }

  // ---- messages ---------------------------------------------------------------------------
  function snapshot(message) {
    const seen = new Set();
    for (const booth of message.booths) {
      seen.add(booth.booth);
      update(booth.booth, booth);
    }
    for (const [id, entry] of booths) {
      if (!seen.has(id)) { entry.card.remove(); booths.delete(id); }
    }
    for (const card of list.querySelectorAll("[data-booth]")) {
      if (!seen.has(card.dataset.booth)) card.remove();
    }
    document.getElementById("monitor-no-booths").hidden = message.booths.length > 0;
    feed.replaceChildren();
    for (const capture of message.captures) addCapture(capture, true);
    document.getElementById("monitor-no-captures").hidden = message.captures.length > 0;
  }
  function onMessage(message) {
    switch (message.type) {
      case "snapshot": snapshot(message); break;
      case "presence": update(message.booth, message); break;
      case "smile": smile(message); break;
      case "trigger": trigger(message); break;
      case "queue": update(message.booth, { pending: message.pending }); break;
      case "capture":
        addCapture(message, false);
        if (booths.has(message.booth)) update(message.booth, { last_capture: message });
        break;
      default: break;
    }
  }

  // ---- the socket ---------------------------------------------------------------------------
  // Close codes (captures/monitor.py): 4003 no longer signed in or no longer a member:
  // say so and stop; anything else (1006 a server restart, 4013 the live channel is
  // down): reconnect after 1, 2, 4, 8, 15, then every 30 s.
  function connect() {
    const scheme = location.protocol === "https:" ? "wss://" : "ws://";
    const opening = new WebSocket(scheme + location.host + list.dataset.socket);
    let opened = false;
    opening.onopen = () => { opened = true; };
    opening.onmessage = (event) => {
      const message = JSON.parse(event.data);
      if (message.type === "snapshot") { failures = 0; say("Live", "live"); }
      onMessage(message);
    };
    opening.onclose = (event) => {
      socket = null;
      if (event.code === 4003) return signedOut();
      if (stopped) return;
      const wait = BACKOFF_MS[Math.min(failures, BACKOFF_MS.length - 1)];
      failures += 1;
      say("Reconnecting…", "reconnecting");
      setTimeout(opened ? connect : checkThenConnect, wait);
    };
    socket = opening;
  }
  // A handshake refused before it opened: the server is down, or the session is gone
  // (the page itself then redirects to the sign-in page).
  async function checkThenConnect() {
    try {
      const response = await fetch(location.href, { redirect: "manual", credentials: "same-origin" });
      if (response.type === "opaqueredirect" || response.status === 403 || response.status === 404) return signedOut();
    } catch (e) { /* the server is down: try the socket again */ }
    connect();
  }
  function signedOut() {
    stopped = true;
    status.dataset.state = "signed-out";
    const link = Object.assign(document.createElement("a"), { href: list.dataset.login, textContent: "Sign in again" });
    status.replaceChildren("You are signed out, or no longer a member here. ", link);
  }

  // ---- clocks: relative times and presence that was not refreshed in time ----------------
  setInterval(() => {
    for (const node of document.querySelectorAll(".monitor-booths time, .monitor-captures time")) {
      node.textContent = ago(node.dateTime);
    }
    const now = Date.now();
    for (const [id, entry] of booths) {
      if (entry.expires !== null && now > entry.expires) update(id, { online: false });
    }
  }, 5000);

  window.addEventListener("pagehide", () => { stopped = true; if (socket) socket.close(); });
  window.addEventListener("pageshow", (event) => { if (event.persisted) { stopped = false; connect(); } });
  connect();
})();
