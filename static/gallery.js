/* Boothsite's gallery lightbox (issue 14.1): the session page and the event gallery.
 *
 * Plain JavaScript, no dependencies. Progressive: without it every thumbnail is a link to
 * its image and every "Download" a link with a file name, so nothing here is needed to
 * see or keep a photo. With it, a thumbnail opens a modal <dialog> over the page:
 *
 *   - ← / → move between the page's strips and photos (wrapping round), Home / End jump
 *     to the first / last; Escape or the close button shuts it; Tab stays inside it and
 *     the focus goes back to the thumbnail that opened it;
 *   - a horizontal swipe (pointer events: touch, pen or mouse drag) moves too;
 *   - a photo's filters ("Original", "Sepia"…) are buttons that switch the image;
 *   - the download link follows what is shown, with the event's file name;
 *   - on a phone, Back closes an open lightbox rather than leaving the page: opening it
 *     pushes a history entry, Back (popstate) closes it, and closing it otherwise (✕,
 *     Escape) goes back over that entry, so none pile up.
 *
 * Media URLs are signed and short-lived (BOOTHSITE_MEDIA_URL_TTL, 300 s): a page left
 * open longer meets images that no longer load. When one fails (or before a media link
 * or download is followed a minute or more after the URLs were fetched), the page is
 * fetched again and every media URL on it is swapped for the fresh one of the same file
 * (src, srcset, href, data-download); an image that fails with a fresh URL shows the
 * browser's broken state. A page that has since closed (404, 410) gives no fresh URL.
 *
 * The markup it reads: a [data-lightbox] container of [data-item] figures, each with one
 * or more a.open[data-label] links (href = full image, data-download, data-filename,
 * data-width, data-height) wrapping a thumbnail <img>.
 */
(function () {
  "use strict";

  const SWIPE_PX = 50;
  const STALE_MS = 60000;
  const root = document.querySelector("[data-lightbox]");
  if (!root) return;

  // ---- Fresh URLs for a page left open past their lifetime ----

  const SIGNING = /^(X-Amz-[A-Za-z-]+|AWSAccessKeyId|Signature|Expires)$/;
  const LOCAL_SIGNATURE = /^\/media\/\d+\.[A-Za-z0-9_-]+\//;
  let generation = 0;
  let fetchedAt = Date.now();
  let refreshing = null;

  // The same file and query whatever the signature: the key to match fresh URLs by.
  function identity(url) {
    let parsed;
    try {
      parsed = new URL(url, location.href);
    } catch (error) {
      return null;
    }
    const signed = LOCAL_SIGNATURE.test(parsed.pathname);
    const kept = Array.from(parsed.searchParams).filter(([name]) => !SIGNING.test(name));
    if (!signed && kept.length === Array.from(parsed.searchParams).length) return null;
    const path = parsed.pathname.replace(LOCAL_SIGNATURE, "/media/");
    kept.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    return parsed.origin + path + "?" + new URLSearchParams(kept).toString();
  }

  const ATTRIBUTES = ["src", "srcset", "href", "data-download"];

  function mediaNodes(scope) {
    return scope.querySelectorAll("[data-lightbox] img, [data-lightbox] source, [data-lightbox] a");
  }

  function swap(value, fresh) {
    return value
      .split(",")
      .map((part) => {
        const bits = part.trim().split(/\s+/);
        const id = bits[0] ? identity(bits[0]) : null;
        if (id && fresh.has(id)) bits[0] = fresh.get(id);
        return bits.join(" ");
      })
      .join(", ");
  }

  function refresh() {
    if (refreshing) return refreshing;
    refreshing = fetch(location.href, { credentials: "same-origin", cache: "no-store" })
      .then((response) => (response.ok ? response.text() : ""))
      .then((html) => {
        if (!html) return false;
        const page = new DOMParser().parseFromString(html, "text/html");
        const fresh = new Map();
        mediaNodes(page).forEach((node) => {
          ATTRIBUTES.forEach((name) => {
            const value = node.getAttribute(name);
            if (!value) return;
            value.split(",").forEach((part) => {
              const url = part.trim().split(/\s+/)[0];
              const id = url ? identity(url) : null;
              if (id) fresh.set(id, url);
            });
          });
        });
        generation += 1;
        fetchedAt = Date.now();
        mediaNodes(document).forEach((node) => {
          ATTRIBUTES.forEach((name) => {
            const value = node.getAttribute(name);
            if (!value) return;
            const swapped = swap(value, fresh);
            if (swapped !== value) {
              node.setAttribute(name, swapped);
              node.dataset.generation = String(generation);
            }
          });
        });
        return true;
      })
      .catch(() => false)
      .finally(() => {
        refreshing = null;
      });
    return refreshing;
  }

  // An image of the page that fails with URLs older than the last refresh asks for one.
  document.addEventListener(
    "error",
    (event) => {
      const img = event.target;
      if (!(img instanceof HTMLImageElement) || !root.contains(img)) return;
      if (img.dataset.generation === String(generation) && generation > 0) return;
      refresh();
    },
    true
  );

  // A media link or download followed long after the URLs came: fresh ones first.
  document.addEventListener("click", (event) => {
    const link = event.target.closest("a[href]");
    if (!link || !link.closest("[data-lightbox], dialog.lightbox")) return;
    if (link.dataset.fresh === "1" || Date.now() - fetchedAt < STALE_MS) return;
    if (!identity(link.href) || (link.matches("a.open[data-label]") && lightboxReady)) return;
    event.preventDefault();
    refresh().then(() => {
      if (link.classList.contains("lightbox-download")) show(index, version);
      link.dataset.fresh = "1";
      link.click();
      delete link.dataset.fresh;
    });
  });

  const lightboxReady = typeof HTMLDialogElement === "function";
  if (!lightboxReady) return;
  const figures = Array.from(root.querySelectorAll("[data-item]"));
  const items = figures.map((figure) => Array.from(figure.querySelectorAll("a.open[data-label]")));
  if (!items.some((links) => links.length)) return;

  const dialog = document.createElement("dialog");
  dialog.className = "lightbox";
  dialog.setAttribute("aria-label", "Photo viewer");
  dialog.innerHTML =
    '<div class="lightbox-stage"><img class="lightbox-image" alt="" draggable="false"></div>' +
    '<div class="lightbox-bar">' +
    '<p class="lightbox-caption" aria-live="polite"></p>' +
    '<div class="lightbox-versions" role="group" aria-label="Filters"></div>' +
    '<div class="lightbox-actions">' +
    '<button type="button" class="lightbox-prev secondary" aria-label="Previous">‹</button>' +
    '<a class="button lightbox-download" href="">Download</a>' +
    '<button type="button" class="lightbox-next secondary" aria-label="Next">›</button>' +
    '<button type="button" class="lightbox-close secondary" aria-label="Close">✕</button>' +
    "</div></div>";
  document.body.append(dialog);
  const stage = dialog.querySelector(".lightbox-stage");
  const image = dialog.querySelector(".lightbox-image");
  const caption = dialog.querySelector(".lightbox-caption");
  const versions = dialog.querySelector(".lightbox-versions");
  const download = dialog.querySelector(".lightbox-download");

  let index = 0;
  let version = 0;
  let opener = null;
  let loading = null;
  let pushed = false;
  let retried = -1;

  // The image shown fails (its URL expired): fetch fresh URLs once per refresh, show again.
  image.addEventListener("error", () => {
    if (!dialog.open || !image.getAttribute("src") || retried === generation) return;
    retried = generation;
    const at = [index, version];
    refresh().then((ok) => {
      if (ok && dialog.open && index === at[0] && version === at[1]) show(at[0], at[1]);
    });
  });

  function title(link) {
    const thumb = link.querySelector("img");
    const alt = thumb ? thumb.alt : "";
    return alt.replace(/ version$/, "");
  }

  function show(i, v) {
    const count = items.length;
    index = ((i % count) + count) % count;
    const links = items[index];
    if (!links.length) return;
    version = Math.min(Math.max(v, 0), links.length - 1);
    const link = links[version];
    const thumb = link.querySelector("img");
    const full = link.href;
    image.width = Number(link.dataset.width) || 0;
    image.height = Number(link.dataset.height) || 0;
    image.alt = title(links[0]) + (links.length > 1 ? ", " + link.dataset.label : "");
    // The thumbnail the page already has first, the full image as soon as it is here.
    image.src = thumb && thumb.currentSrc ? thumb.currentSrc : full;
    image.dataset.full = full;
    if (image.src !== full) {
      const next = new Image();
      loading = next;
      next.onload = () => {
        if (loading === next && image.dataset.full === full) image.src = full;
      };
      next.onerror = () => {
        if (loading === next && image.dataset.full === full) image.src = full;
      };
      next.src = full;
    }
    caption.textContent =
      title(links[0]) + (links.length > 1 ? " · " + link.dataset.label : "") +
      " — " + (index + 1) + " of " + count;
    download.href = link.dataset.download || full;
    download.setAttribute("download", link.dataset.filename || "");
    download.textContent = "Download";
    versions.replaceChildren(
      ...(links.length > 1
        ? links.map((other, n) => {
            const button = document.createElement("button");
            button.type = "button";
            button.className = "secondary";
            button.textContent = other.dataset.label;
            button.setAttribute("aria-pressed", String(n === version));
            button.addEventListener("click", () => show(index, n));
            return button;
          })
        : [])
    );
    versions.hidden = links.length < 2;
    preload(index + 1);
    preload(index - 1);
  }

  function preload(i) {
    const count = items.length;
    const links = items[((i % count) + count) % count];
    if (links.length) new Image().src = links[0].href;
  }

  function open(i, v, from) {
    opener = from || document.activeElement;
    show(i, v);
    if (!dialog.open) {
      dialog.showModal();
      // Back closes the lightbox (popstate below) instead of leaving the page.
      history.pushState({ lightbox: true }, "");
      pushed = true;
    }
    dialog.querySelector(".lightbox-next").focus();
    document.documentElement.classList.add("lightbox-open");
  }

  function close() {
    if (dialog.open) dialog.close();
  }

  window.addEventListener("popstate", () => {
    if (!pushed) return;
    pushed = false;
    close();
  });
  // A reload of a page whose lightbox was open leaves its entry: make it the page's own.
  if (history.state && history.state.lightbox) history.replaceState(null, "");

  dialog.addEventListener("close", () => {
    // Closed by ✕, Escape or the browser: take back the entry opening it pushed.
    if (pushed) {
      pushed = false;
      history.back();
    }
    document.documentElement.classList.remove("lightbox-open");
    image.removeAttribute("src");
    if (opener && typeof opener.focus === "function") opener.focus();
    opener = null;
  });

  root.addEventListener("click", (event) => {
    if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    const link = event.target.closest("a.open[data-label]");
    if (!link) return;
    const i = items.findIndex((links) => links.includes(link));
    if (i < 0) return;
    event.preventDefault();
    open(i, items[i].indexOf(link), link);
  });

  dialog.querySelector(".lightbox-prev").addEventListener("click", () => show(index - 1, 0));
  dialog.querySelector(".lightbox-next").addEventListener("click", () => show(index + 1, 0));
  dialog.querySelector(".lightbox-close").addEventListener("click", close);

  dialog.addEventListener("keydown", (event) => {
    if (event.key === "ArrowLeft") show(index - 1, 0);
    else if (event.key === "ArrowRight") show(index + 1, 0);
    else if (event.key === "Home") show(0, 0);
    else if (event.key === "End") show(items.length - 1, 0);
    else if (event.key === "Escape") close();
    else if (event.key === "Tab") trapTab(event);
    else return;
    if (event.key !== "Tab") event.preventDefault();
  });

  function trapTab(event) {
    const focusable = Array.from(dialog.querySelectorAll("button, a[href]")).filter(
      (node) => !node.hidden && !node.closest("[hidden]") && node.offsetParent !== null
    );
    if (!focusable.length) return;
    const first = focusable[0];
    const last = focusable[focusable.length - 1];
    if (event.shiftKey && (document.activeElement === first || !dialog.contains(document.activeElement))) {
      event.preventDefault();
      last.focus();
    } else if (!event.shiftKey && (document.activeElement === last || !dialog.contains(document.activeElement))) {
      event.preventDefault();
      first.focus();
    }
  }

  // Swipe: follow the finger (or mouse) sideways, then move on past SWIPE_PX.
  let start = null;
  stage.addEventListener("pointerdown", (event) => {
    if (!event.isPrimary || (event.pointerType === "mouse" && event.button !== 0)) return;
    start = { x: event.clientX, y: event.clientY, id: event.pointerId };
    stage.setPointerCapture(event.pointerId);
  });
  stage.addEventListener("pointermove", (event) => {
    if (!start || event.pointerId !== start.id) return;
    image.style.transform = "translateX(" + (event.clientX - start.x) + "px)";
  });
  function endSwipe(event, cancelled) {
    if (!start || event.pointerId !== start.id) return;
    const dx = event.clientX - start.x;
    const dy = event.clientY - start.y;
    start = null;
    image.style.transform = "";
    if (cancelled || Math.abs(dx) < SWIPE_PX || Math.abs(dx) < Math.abs(dy)) return;
    show(dx < 0 ? index + 1 : index - 1, 0);
  }
  stage.addEventListener("pointerup", (event) => endSwipe(event, false));
  stage.addEventListener("pointercancel", (event) => endSwipe(event, true));
})();
