// Console event pages (events/event_form.html, captures/event_capture_settings.html):
// small helps on top of forms that work without them.
// - The slug field shows, as its placeholder, the slug the server makes from the name
//   when it is left empty (Django's slugify, roughly).
// - A new event's time zone starts as the browser's own, when the list has it.
// - Each slider's <output> shows its value as it moves.
(function () {
  "use strict";

  function slugify(text) {
    return text
      .normalize("NFKD")
      .replace(/[\u0300-\u036f]/g, "")
      .toLowerCase()
      .replace(/[^\w\s-]/g, "")
      .trim()
      .replace(/[-\s]+/g, "-")
      .replace(/^[-_]+|[-_]+$/g, "")
      .slice(0, 50);
  }

  const name = document.getElementById("id_name");
  const slug = document.getElementById("id_slug");
  if (name && slug && !slug.disabled) {
    const suggest = () => {
      slug.placeholder = slugify(name.value) || "made from the name";
    };
    name.addEventListener("input", suggest);
    suggest();
  }

  const form = document.querySelector("form[data-guess-zone]");
  const zone = document.getElementById("id_timezone");
  if (form && zone && zone.value === "UTC") {
    try {
      const own = Intl.DateTimeFormat().resolvedOptions().timeZone;
      if (own && [...zone.options].some((option) => option.value === own)) zone.value = own;
    } catch (error) {
      // No Intl time zone: keep UTC.
    }
  }

  for (const slider of document.querySelectorAll("input[type=range]")) {
    const output = document.getElementById(slider.id + "_value");
    if (!output) continue;
    const show = () => {
      output.textContent = Number(slider.value).toFixed(2);
    };
    slider.addEventListener("input", show);
    show();
  }
})();
