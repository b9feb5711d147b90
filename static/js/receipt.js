// A receipt page: copy the tracking code, print the receipt (no inline script).
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var copy = event.target.closest("[data-copy]");
    if (copy) {
      var text = document.querySelector(copy.dataset.copy).textContent.trim();
      var status = document.querySelector("[data-copy-status]");
      var done = function () { if (status) status.textContent = copy.dataset.copied; };
      if (navigator.clipboard && navigator.clipboard.writeText) {
        navigator.clipboard.writeText(text).then(done, function () { select(text); done(); });
      } else {
        select(text); done();
      }
    }
    if (event.target.closest("[data-print]")) window.print();
  });
  function select(text) {
    var area = document.createElement("textarea");
    area.value = text;
    document.body.appendChild(area);
    area.select();
    document.execCommand("copy");
    area.remove();
  }
})();
