// A receipt page: copy the tracking code, print the receipt (no inline script).
// The buttons are hidden until this script runs, so a page without JavaScript shows
// no inert button, only the hint to select the code and use the browser's printing.
// Copying tries the Clipboard API (secure contexts only), then the older
// execCommand("copy"); where neither works, the code is selected and the person is
// told to press Ctrl+C, never told it was copied when it was not.
(function () {
  "use strict";
  function reveal() {
    var buttons = document.querySelectorAll("[data-copy], [data-print]");
    for (var i = 0; i < buttons.length; i++) buttons[i].hidden = false;
    var hints = document.querySelectorAll("[data-no-script-hint]");
    for (var j = 0; j < hints.length; j++) hints[j].hidden = true;
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", reveal);
  } else {
    reveal();
  }

  function legacyCopy(text) {
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.className = "offscreen";
    document.body.appendChild(area);
    area.select();
    var copied = false;
    try {
      copied = typeof document.execCommand === "function" && document.execCommand("copy");
    } catch (error) {
      copied = false;
    }
    area.remove();
    return Boolean(copied);
  }

  function selectNode(node) {
    var selection = window.getSelection();
    var range = document.createRange();
    range.selectNodeContents(node);
    selection.removeAllRanges();
    selection.addRange(range);
  }

  document.addEventListener("click", function (event) {
    var copy = event.target.closest("[data-copy]");
    if (copy) {
      var target = document.querySelector(copy.dataset.copy);
      var text = target.textContent.trim();
      var status = document.querySelector("[data-copy-status]");
      var say = function (message) { if (status) status.textContent = message; };
      var fallback = function () {
        if (legacyCopy(text)) {
          say(copy.dataset.copied);
        } else {
          selectNode(target);
          say(copy.dataset.manual);
        }
      };
      if (window.isSecureContext && navigator.clipboard && navigator.clipboard.writeText) {
        navigator.clipboard.writeText(text).then(function () { say(copy.dataset.copied); }, fallback);
      } else {
        fallback();
      }
    }
    if (event.target.closest("[data-print]")) window.print();
  });
})();
