// Boothsite console, booth pages: "Copy" buttons for a pairing code, link or token.
// A button names its text with data-copy="#id". Without JavaScript (or a clipboard) the
// buttons stay hidden or fall back to selecting the text, ready for Ctrl+C.
(function () {
  "use strict";
  const status = document.querySelector(".copy-status");
  function say(text) { if (status) status.textContent = text; }
  function select(node) {
    const range = document.createRange();
    range.selectNodeContents(node);
    const selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }
  for (const button of document.querySelectorAll("button[data-copy]")) {
    const target = document.querySelector(button.dataset.copy);
    if (!target) continue;
    button.hidden = false;
    button.addEventListener("click", async () => {
      const text = target.textContent.trim();
      try {
        await navigator.clipboard.writeText(text);
        say("Copied.");
      } catch (e) {
        select(target);
        say("Selected: press Ctrl+C (or ⌘C) to copy.");
      }
    });
  }
})();
