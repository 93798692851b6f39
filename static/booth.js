// Boothsite kiosk: pairing, live preview, countdown snap, upload, finish, share.
"use strict";
(function () {
  const TOKEN_KEY = "boothsite.booth_token";
  const $ = (id) => document.getElementById(id);
  let token = localStorage.getItem(TOKEN_KEY);
  let booth = null;
  let session = null;
  let taken = 0;

  function show(id) {
    for (const el of document.querySelectorAll(".screen")) el.hidden = el.id !== id;
  }

  async function api(method, path, body) {
    const headers = { Authorization: "Booth " + token };
    let payload = body;
    if (body && !(body instanceof FormData)) {
      headers["Content-Type"] = "application/json";
      payload = JSON.stringify(body);
    }
    const response = await fetch("/api/v1/booth/" + path, { method, headers, body: payload });
    const data = await response.json().catch(() => ({}));
    if (!response.ok) {
      const error = new Error(data.detail || Object.values(data).flat().join(" ") || response.statusText);
      error.status = response.status;
      throw error;
    }
    return data;
  }

  async function pair(code) {
    const response = await fetch("/api/v1/booth/pair/", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ code }),
    });
    const data = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(data.detail || "Pairing failed.");
    token = data.token;
    localStorage.setItem(TOKEN_KEY, token);
  }

  async function start() {
    const fragment = new URLSearchParams(location.hash.slice(1));
    if (fragment.get("pair")) {
      history.replaceState(null, "", location.pathname);
      try { await pair(fragment.get("pair")); } catch (e) { $("pair-error").textContent = e.message; $("pair-error").hidden = false; }
    }
    if (!token) return show("unpaired");
    try {
      booth = await api("GET", "me/");
    } catch (e) {
      if (e.status === 401) { localStorage.removeItem(TOKEN_KEY); token = null; return show("unpaired"); }
      $("booth-status").textContent = e.message;
    }
    $("event-name").textContent = booth && booth.event ? booth.event.name : "This booth is not assigned to an event.";
    show("live");
    try {
      const stream = await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 480 }, audio: false });
      $("preview").srcObject = stream;
    } catch (e) {
      $("booth-status").textContent = "The camera is not available: " + e.message;
    }
  }

  function grab() {
    const video = $("preview");
    const canvas = document.createElement("canvas");
    canvas.width = video.videoWidth || 640;
    canvas.height = video.videoHeight || 480;
    canvas.getContext("2d").drawImage(video, 0, 0, canvas.width, canvas.height);
    return new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", 0.92));
  }

  async function countdown(seconds) {
    const box = $("countdown");
    box.hidden = false;
    for (let s = seconds; s > 0; s--) { box.textContent = s; await new Promise((r) => setTimeout(r, 1000)); }
    box.hidden = true;
  }

  async function snap() {
    $("snap").disabled = true;
    try {
      if (!session) { session = await api("POST", "sessions/"); taken = 0; $("drawer").replaceChildren(); }
      await countdown(session.event.countdown_seconds);
      const form = new FormData();
      form.append("image", await grab(), "snap.jpg");
      form.append("trigger", "countdown");
      const capture = await api("POST", "sessions/" + session.id + "/captures/", form);
      taken += 1;
      const item = document.createElement("li");
      const img = document.createElement("img");
      img.src = capture.thumbnail_url; img.alt = "Snap " + taken;
      item.append(img); $("drawer").append(item);
      $("finish").hidden = false;
      if (taken >= session.event.captures_per_session) await finish();
    } catch (e) {
      $("booth-status").textContent = e.message;
    } finally {
      $("snap").disabled = false;
    }
  }

  async function finish() {
    const done = await api("POST", "sessions/" + session.id + "/finish/");
    $("share-link").href = done.share_url;
    $("share-link").textContent = done.share_url;
    show("share");
  }

  async function sendSms(event) {
    event.preventDefault();
    $("sms-status").textContent = "Sending…";
    try {
      await api("POST", "sessions/" + session.id + "/share/sms/", { phone: $("phone").value });
      $("sms-status").textContent = "Sent! Check your phone.";
    } catch (e) {
      $("sms-status").textContent = e.message;
    }
  }

  $("pair-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    try { await pair($("pair-code").value.trim()); start(); } catch (e) { $("pair-error").textContent = e.message; $("pair-error").hidden = false; }
  });
  $("snap").addEventListener("click", snap);
  $("finish").addEventListener("click", () => finish().catch((e) => { $("booth-status").textContent = e.message; }));
  $("sms-form").addEventListener("submit", sendSms);
  $("again").addEventListener("click", () => { session = null; $("phone").value = ""; $("sms-status").textContent = ""; $("finish").hidden = true; $("drawer").replaceChildren(); show("live"); });
  start();
})();
