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
