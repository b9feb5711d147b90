// Score pages: keep the "not applicable" box and the points box in step, and
// show the deduction-reason box only when the points fall below the maximum
// (a hidden box is skipped by Tab, so Tab goes straight to the next point).
(function () {
  "use strict";
  var NA_WORDS = ["n/a", "na", "不适用"];

  function sync(form, source) {
    var input = form.querySelector("input[name=points]");
    var box = form.querySelector("input[name=not_applicable]");
    var reason = form.querySelector("[id^=reason-]");
    if (!input) return;
    var text = input.value.trim();
    var typedNa = NA_WORDS.indexOf(text.toLowerCase()) !== -1;
    if (box && source === input) box.checked = typedNa;
    if (box && source === box) input.value = box.checked ? "N/A" : "";
    if (!reason || !form.dataset.max) return;
    var value = Number(text.replace(",", "."));
    var deduction = text !== "" && !typedNa && !box.checked && !isNaN(value) &&
      value < Number(form.dataset.max);
    var area = reason.querySelector("textarea");
    reason.hidden = !(deduction || (area && area.value.trim() !== ""));
  }

  function onEdit(event) {
    var form = event.target.closest && event.target.closest("form[data-max]");
    if (form) sync(form, event.target);
  }

  // Capture phase: runs before htmx reads the form, so a ticked box is sent as N/A.
  document.addEventListener("input", onEdit, true);
  document.addEventListener("change", onEdit, true);
})();

// Every autosave shows its outcome. The server answers a refusal (bad input,
// closed phase) with the status line itself; what it cannot answer is a lost
// connection or a server error, which htmx does not show. Those are retried
// with backoff, then shown as "not saved" with a retry button; leaving the page
// while a point is unsaved asks first.
(function () {
  "use strict";
  var RETRY_DELAYS = window.xmSaveRetryDelays || [1000, 2000, 4000, 8000];
  var box = document.getElementById("save-messages");
  var text = function (key, fallback) {
    return (box && box.dataset[key]) || fallback;
  };

  function pointForm(element) {
    return element && element.closest ? element.closest("form[hx-post]") : null;
  }
  function statusOf(form) {
    return form.querySelector(".status");
  }
  function show(form, kind, message, withButton) {
    var status = statusOf(form);
    if (!status) return;
    status.textContent = "";
    var span = document.createElement("span");
    span.className = "status-message " + kind;
    if (kind === "error") span.setAttribute("role", "alert");
    span.textContent = message;
    status.appendChild(span);
    if (withButton) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "retry";
      button.textContent = text("retry", "Retry");
      button.addEventListener("click", function () {
        form.dataset.attempt = "0";
        save(form);
      });
      status.appendChild(document.createTextNode(" "));
      status.appendChild(button);
    }
  }
  function save(form) {
    if (window.htmx) window.htmx.trigger(form, "submit");
  }

  document.addEventListener("input", function (event) {
    var form = pointForm(event.target);
    if (!form) return;
    form.dataset.edits = String(Number(form.dataset.edits || 0) + 1);
    form.dataset.unsaved = "1";
  }, true);

  document.addEventListener("htmx:beforeRequest", function (event) {
    var form = pointForm(event.detail.elt);
    if (!form) return;
    form.dataset.sending = form.dataset.edits || "0";
    if (!form.dataset.attempt || form.dataset.attempt === "0") {
      show(form, "pending", text("saving", "Saving…"), false);
    }
  });

  document.addEventListener("htmx:afterRequest", function (event) {
    var form = pointForm(event.detail.elt);
    if (!form || !event.detail.successful) return;
    form.dataset.attempt = "0";
    // Saved as sent: unsaved only if the person typed again meanwhile.
    if ((form.dataset.edits || "0") === form.dataset.sending) delete form.dataset.unsaved;
  });

  function failed(event) {
    var form = pointForm(event.detail.elt);
    if (!form) return;
    var xhr = event.detail.xhr;
    var code = xhr ? xhr.status : 0;
    var attempt = Number(form.dataset.attempt || 0);
    var transient = code === 0 || code >= 500 || code === 429;
    if (transient && attempt < RETRY_DELAYS.length) {
      form.dataset.attempt = String(attempt + 1);
      show(form, "pending", text("retrying", "Not saved yet, retrying…") +
        " (" + (attempt + 1) + "/" + RETRY_DELAYS.length + ")", false);
      window.setTimeout(function () { save(form); }, RETRY_DELAYS[attempt]);
      return;
    }
    form.dataset.attempt = "0";
    var message = text("failed", "Not saved, please retry");
    if (code) message += " (HTTP " + code + ")";
    show(form, "error", message, true);
  }
  document.addEventListener("htmx:responseError", failed);
  document.addEventListener("htmx:sendError", failed);
  document.addEventListener("htmx:timeout", failed);

  document.addEventListener("htmx:load", function () {
    if (window.htmx && !window.htmx.config.timeout) window.htmx.config.timeout = 20000;
  });

  window.addEventListener("beforeunload", function (event) {
    if (!document.querySelector("form[hx-post][data-unsaved]")) return;
    event.preventDefault();
    event.returnValue = text("unsaved", "Some scores are not saved yet.");
    return event.returnValue;
  });
})();
