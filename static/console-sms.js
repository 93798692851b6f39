// The console's SMS pages: the live preview and segment counter of an event's SMS text,
// and the SMS account form's own-account fields. Plain JS, no dependencies.
//
// The preview renders the text as messaging.services.compose_share_text does, and the
// counter counts it as messaging/segments.py does (tests/messaging/test_segments.py pins
// the rules; tests/browser/test_console_sms.py checks this file against them):
// GSM-7 160 septets for one SMS, 153 a part, extension characters 2; any other
// character switches to UCS-2, 70 UTF-16 units for one SMS, 67 a part; a part never
// ends inside an escape pair or a surrogate pair.
(function () {
  "use strict";

  var GSM_BASIC = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
  var GSM_EXTENSION = "\f^{}\\[~]|€";
  var SINGLE = { "GSM-7": 160, "UCS-2": 70 };
  var PART = { "GSM-7": 153, "UCS-2": 67 };
  var CONTROL = /[\x00-\x1f\x7f]/g;
  // Python's whitespace (str.split, str.strip), which JS's \s and trim() differ from.
  var PY_SPACE = "\\t\\n\\x0b\\x0c\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000";
  var SPACES = new RegExp("[" + PY_SPACE + "]+", "g");
  var ENDS = new RegExp("^[" + PY_SPACE + "]+|[" + PY_SPACE + "]+$", "g");
  var LINK = "{link}";

  function characters(text) {
    return Array.from(text); // code points: an emoji is one character here
  }

  function isGsm(ch) {
    return GSM_BASIC.indexOf(ch) >= 0 || GSM_EXTENSION.indexOf(ch) >= 0;
  }

  function countSegments(text) {
    var chars = characters(text);
    var nonGsm = [];
    chars.forEach(function (ch) {
      if (!isGsm(ch) && nonGsm.indexOf(ch) < 0) nonGsm.push(ch);
    });
    var encoding = nonGsm.length ? "UCS-2" : "GSM-7";
    var sizes = chars.map(function (ch) {
      if (encoding === "GSM-7") return GSM_EXTENSION.indexOf(ch) >= 0 ? 2 : 1;
      return ch.codePointAt(0) > 0xffff ? 2 : 1;
    });
    var units = sizes.reduce(function (a, b) { return a + b; }, 0);
    var single = SINGLE[encoding];
    if (units === 0) return { encoding: encoding, units: 0, segments: 0, perSegment: single, remaining: single, nonGsm: nonGsm };
    if (units <= single) return { encoding: encoding, units: units, segments: 1, perSegment: single, remaining: single - units, nonGsm: nonGsm };
    var part = PART[encoding];
    var segments = 1;
    var used = 0;
    sizes.forEach(function (size) {
      if (used + size > part) { segments += 1; used = 0; }
      used += size;
    });
    return { encoding: encoding, units: units, segments: segments, perSegment: part, remaining: part - used, nonGsm: nonGsm };
  }

  function compose(template, link, defaultText) {
    var text = template.replace(ENDS, ""); // the form strips the text as Python does
    if (!text) return defaultText.split(LINK).join(link);
    text = text.replace(CONTROL, " ");
    text = text.indexOf(LINK) >= 0 ? text.split(LINK).join(link) : text + " " + link;
    return text.replace(SPACES, " ").replace(ENDS, "");
  }

  function setUpSettings(form) {
    var input = form.querySelector("textarea[name=sms_template]");
    if (!input) return;
    var link = form.dataset.link;
    var defaultText = form.dataset.defaultText;
    var most = Number(form.dataset.maxSegments);
    var byId = function (id) { return document.getElementById(id); };
    var preview = byId("sms-preview");
    var counter = byId("sms-counter");
    function update() {
      var text = compose(input.value, link, defaultText);
      var count = countSegments(text);
      preview.textContent = text;
      byId("sms-count-units").textContent = String(count.units);
      byId("sms-count-encoding").textContent = count.encoding;
      byId("sms-count-segments").textContent = String(count.segments);
      byId("sms-count-remaining").textContent = String(count.remaining);
      byId("sms-non-gsm").textContent = count.nonGsm.slice(0, 5).join(" ");
      byId("sms-encoding-note").hidden = count.nonGsm.length === 0;
      counter.classList.toggle("too-long", count.segments > most);
      counter.dataset.segments = String(count.segments);
    }
    input.addEventListener("input", update);
    update();
  }

  function setUpAccount(form) {
    var own = form.querySelector("[data-own-fields]");
    var radios = form.querySelectorAll("input[name=account]");
    if (!own || !radios.length) return;
    function update() {
      var chosen = form.querySelector("input[name=account]:checked");
      own.hidden = !chosen || chosen.value !== "own";
    }
    radios.forEach(function (radio) { radio.addEventListener("change", update); });
    update();
  }

  window.boothsiteSms = { countSegments: countSegments, compose: compose };
  document.querySelectorAll("form[data-sms-settings]").forEach(setUpSettings);
  document.querySelectorAll("form[data-sms-account]").forEach(setUpAccount);
})();
