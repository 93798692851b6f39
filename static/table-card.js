// The QR table card (captures/table_card.html): the print button, shown once this runs
// (without JavaScript the browser's own Print command prints the same card).
(function () {
  "use strict";
  for (const button of document.querySelectorAll("[data-print]")) {
    button.hidden = false;
    button.addEventListener("click", () => window.print());
  }
})();
