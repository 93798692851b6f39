// The live slideshow (/g/<gallery token>/live/, issue 14.3): full screen for a projector.
//
// It cycles through the event's slides (captures and strips, newest first) every
// data-seconds, cross-fading between two <img> layers. Its socket (captures/slideshow.py)
// pushes {"type": "slide"} for a capture or strip just rendered, shown at once, and
// {"type": "remove", "ids"} for captures hidden or deleted (and their strips), dropped at
// once. The list itself comes from data-feed (JSON, newest first) each time the socket
// opens, every data-refresh seconds, and while the socket cannot open. After a lost
// connection it reconnects after 1, 2, 4, 8, 15, then every 30 s. Keyboard: Space pauses,
// the arrows move one slide, F toggles full screen; nothing needs a mouse.
(function () {
  "use strict";
  const show = document.getElementById("slideshow");
  if (!show) return;
  const layers = [document.getElementById("show-a"), document.getElementById("show-b")];
  const status = document.getElementById("show-status");
  const count = document.getElementById("show-count");
  const empty = document.getElementById("show-empty");
  const ended = document.getElementById("show-ended");
  const pauseButton = document.getElementById("show-pause");
  const fullButton = document.getElementById("show-fullscreen");
  const seconds = Number(show.dataset.seconds) || 6;
  const refreshSeconds = Number(show.dataset.refresh) || 60;
  const BACKOFF_MS = [1000, 2000, 4000, 8000, 15000, 30000];

  let slides = [];        // [{id, kind, url, width, height}], newest first
  let currentId = null;   // the slide on screen
  let front = 0;          // the layer showing it
  let paused = false;
  let timer = null;
  let socket = null;
  let failures = 0;
  let stopped = false;    // the gallery is closed to this link: no more reconnecting
  let fetching = null;    // {pushed, removed} while a feed request is out
  let showing = 0;        // number of the latest show() call (a newer one wins)

  function say(text, state) {
    status.textContent = text;
    show.dataset.state = state;
  }
  function indexOf(id) { return slides.findIndex((slide) => slide.id === id); }
  function label(slide) {
    const place = indexOf(slide.id) + 1;
    const what = slide.kind === "strip" ? "Photo strip" : "Photo";
    return `${what} ${place} of ${slides.length}`;
  }
  function updateCount() {
    const place = currentId === null ? 0 : indexOf(currentId) + 1;
    count.textContent = slides.length ? `${place} / ${slides.length}` : "";
    show.dataset.count = String(slides.length);
    empty.hidden = slides.length > 0 || stopped;
  }

  // ---- showing ------------------------------------------------------------------------------
  function schedule() {
    clearTimeout(timer);
    timer = null;
    if (!paused && !stopped && slides.length > 1) timer = setTimeout(() => step(1), seconds * 1000);
  }
  function clearStage() {
    for (const layer of layers) {
      layer.classList.remove("is-current");
      layer.hidden = true;
      layer.removeAttribute("src");
      delete layer.dataset.slide;
    }
    currentId = null;
    show.dataset.current = "";
  }
  async function display(slide) {
    const ticket = ++showing;
    const loader = new Image();
    loader.src = slide.url;
    try {
      await loader.decode();
    } catch (error) {
      if (ticket !== showing) return;
      // Gone meanwhile (hidden, deleted, link closed): drop it and go on from its place.
      pendingPlace = indexOf(slide.id);
      slides = slides.filter((other) => other.id !== slide.id);
      if (pendingPlace < 0) return;
      currentId = null;
      step(0);
      return;
    }
    if (ticket !== showing) return;
    const back = layers[1 - front];
    const old = layers[front];
    back.src = slide.url;
    back.width = slide.width;
    back.height = slide.height;
    back.alt = label(slide);
    back.dataset.slide = slide.id;
    back.hidden = false;
    back.removeAttribute("aria-hidden");
    old.setAttribute("aria-hidden", "true");
    // Next frame: the browser has the new layer at opacity 0, so the change fades.
    requestAnimationFrame(() => {
      back.classList.add("is-current");
      old.classList.remove("is-current");
    });
    front = 1 - front;
    currentId = slide.id;
    show.dataset.current = slide.id;
    updateCount();
    schedule();
  }
  // Show the slide `offset` places after the current one (0: the one now at its place).
  // With no current slide (it was removed, or none yet), show the one at pendingPlace.
  function step(offset) {
    const total = slides.length;
    if (!total) { clearStage(); updateCount(); schedule(); return; }
    const at = currentId === null ? -1 : indexOf(currentId);
    let next = at >= 0 ? at + offset : (pendingPlace >= total ? 0 : Math.max(pendingPlace, 0));
    next = ((next % total) + total) % total;
    display(slides[next]);
  }
  let pendingPlace = 0;  // where a removed slide was, so the show goes on from there

  // ---- changes --------------------------------------------------------------------------
  function addSlide(slide) {
    if (fetching) fetching.pushed.push(slide);
    const at = indexOf(slide.id);
    if (at >= 0) {
      slides[at] = slide;  // a strip rendered again: its new image
      if (slide.id === currentId) display(slide);
      return;
    }
    slides.unshift(slide);
    display(slide);  // a new photo goes on screen at once
  }
  function removeSlides(ids) {
    const gone = new Set(ids);
    if (fetching) ids.forEach((id) => fetching.removed.add(id));
    const wasCurrent = currentId !== null && gone.has(currentId);
    if (wasCurrent) pendingPlace = indexOf(currentId);
    slides = slides.filter((slide) => !gone.has(slide.id));
    // A hidden photo leaves the page at once, from the layer fading out or kept behind
    // too, not only from the one on screen.
    for (const layer of layers) {
      if (gone.has(layer.dataset.slide)) {
        layer.classList.remove("is-current");
        layer.hidden = true;
        layer.removeAttribute("src");
        delete layer.dataset.slide;
      }
    }
    if (wasCurrent) {
      currentId = null;
      show.dataset.current = "";
      step(0);
    }
    updateCount();
  }
  function replaceSlides(fresh, during) {
    const known = new Set(fresh.map((slide) => slide.id));
    const pushed = during.pushed.filter((slide) => !known.has(slide.id));
    slides = [...pushed, ...fresh].filter((slide) => !during.removed.has(slide.id));
    const shown = slides.find((slide) => slide.id === currentId);
    if (shown) {
      // Same photo, perhaps a new (signed) URL: keep it on screen.
      updateCount();
      if (timer === null) schedule();
    } else {
      currentId = null;
      pendingPlace = 0;
      step(0);
    }
    updateCount();
  }

  // ---- the feed ---------------------------------------------------------------------------
  // Returns "ok", "gone" (stop: the gallery is closed to this link), or "error".
  async function loadFeed() {
    if (stopped) return "gone";
    const during = { pushed: [], removed: new Set() };
    fetching = during;
    let response;
    try {
      response = await fetch(show.dataset.feed, { credentials: "same-origin", cache: "no-store" });
    } catch (error) {
      return "error";
    } finally {
      if (fetching === during) fetching = null;
    }
    if (response.ok) {
      const body = await response.json();
      replaceSlides(body.slides || [], during);
      return "ok";
    }
    if ([403, 404, 410].includes(response.status)) {
      let detail = "";
      try { detail = (await response.json()).detail || ""; } catch (error) { /* not JSON */ }
      end(response.status, detail);
      return "gone";
    }
    return "error";
  }
  function end(code, detail) {
    stopped = true;
    clearTimeout(timer);
    slides = [];
    clearStage();
    const texts = {
      403: "This gallery needs its passcode. Open the gallery, type the passcode, then open the slideshow again.",
      404: "This slideshow is not available: the gallery is closed, or the link is not right.",
      410: detail || "This gallery is no longer available. Ask the organiser for a new link.",
    };
    ended.textContent = texts[code] || texts[404];
    ended.hidden = false;
    say("Ended", "ended");
    updateCount();
    if (socket) socket.close();
  }

  // ---- the socket -------------------------------------------------------------------------
  // Close codes (captures/slideshow.py): 4003 the gallery is no longer open to this link
  // (the feed says why; stop); anything else (1006 a server restart, 4013 the live
  // channel is down): reconnect with backoff.
  function connect() {
    if (stopped) return;
    const scheme = location.protocol === "https:" ? "wss://" : "ws://";
    const opening = new WebSocket(scheme + location.host + show.dataset.socket);
    let opened = false;
    opening.onopen = async () => {
      opened = true;
      failures = 0;
      say("Live", "live");
      await loadFeed();  // the snapshot, taken after the join: nothing falls between
    };
    opening.onmessage = (event) => {
      let message;
      try { message = JSON.parse(event.data); } catch (error) { return; }
      if (message.type === "slide" && message.slide) addSlide(message.slide);
      else if (message.type === "remove" && Array.isArray(message.ids)) removeSlides(message.ids);
    };
    opening.onclose = async (event) => {
      if (socket === opening) socket = null;
      if (stopped) return;
      if (event.code === 4003) {
        if ((await loadFeed()) === "gone") return;
      }
      const wait = BACKOFF_MS[Math.min(failures, BACKOFF_MS.length - 1)];
      failures += 1;
      say("Reconnecting…", "reconnecting");
      setTimeout(opened ? connect : checkThenConnect, wait);
    };
    socket = opening;
  }
  // A handshake refused before it opened: the server is down, or the link no longer
  // opens the gallery. The feed tells which, and keeps the photos going meanwhile.
  async function checkThenConnect() {
    if ((await loadFeed()) !== "gone") connect();
  }
  setInterval(() => {
    if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify({ type: "ping" }));
  }, 30000);
  setInterval(() => { if (!stopped && socket && socket.readyState === WebSocket.OPEN) loadFeed(); },
    refreshSeconds * 1000);

  // ---- controls ---------------------------------------------------------------------------
  function setPaused(value) {
    paused = value;
    pauseButton.setAttribute("aria-pressed", String(paused));
    pauseButton.textContent = paused ? "Resume" : "Pause";
    show.dataset.paused = String(paused);
    if (paused) { clearTimeout(timer); timer = null; } else schedule();
  }
  function toggleFullscreen() {
    if (document.fullscreenElement) document.exitFullscreen();
    else if (document.documentElement.requestFullscreen) document.documentElement.requestFullscreen().catch(() => {});
  }
  function fullscreenChanged() {
    fullButton.textContent = document.fullscreenElement ? "Leave full screen" : "Full screen";
  }
  pauseButton.addEventListener("click", () => setPaused(!paused));
  fullButton.addEventListener("click", toggleFullscreen);
  if (!document.fullscreenEnabled) fullButton.hidden = true;
  document.addEventListener("fullscreenchange", fullscreenChanged);
  document.addEventListener("keydown", (event) => {
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    const onButton = event.target instanceof HTMLButtonElement;
    if (event.key === " " && !onButton) { event.preventDefault(); setPaused(!paused); }
    else if (event.key === "ArrowRight") { event.preventDefault(); step(1); }
    else if (event.key === "ArrowLeft") { event.preventDefault(); step(-1); }
    else if (event.key === "f" || event.key === "F") { toggleFullscreen(); }
  });

  // The cursor and the controls fade after 3 s without a move (a projector shows photos).
  let idleTimer = null;
  function awake() {
    show.classList.remove("idle");
    clearTimeout(idleTimer);
    idleTimer = setTimeout(() => show.classList.add("idle"), 3000);
  }
  ["pointermove", "pointerdown", "keydown"].forEach((name) => document.addEventListener(name, awake));
  awake();

  window.addEventListener("pagehide", () => { if (socket) socket.close(); });
  window.addEventListener("pageshow", (event) => { if (event.persisted && !socket) connect(); });
  updateCount();
  connect();
})();
