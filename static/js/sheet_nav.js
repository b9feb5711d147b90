// Long score pages: keep the sticky summary (answered / total per dimension,
// deductions without a reason, veto items failed) in step with what is typed,
// jump to each point it counts, and filter the page to the unanswered points or
// the deductions without a reload. The page renders the same summary and filter
// itself (scoring/sheet_summary.py), so this script only keeps them live.
(function () {
  "use strict";
  var NA_WORDS = ["n/a", "na", "不适用"];
  var summary = document.querySelector("[data-sheet-summary]");
  if (!summary) return;

  function points() {
    return Array.prototype.slice.call(document.querySelectorAll("[data-point]"));
  }
  function setFlag(element, name, on) {
    if (on) element.setAttribute(name, "");
    else element.removeAttribute(name);
  }

  // A point's state from its inputs; read-only points keep what the page said.
  function readPoint(point) {
    var input = point.querySelector("input[name=points]");
    if (!input) return;
    var box = point.querySelector("input[name=not_applicable]");
    var reason = point.querySelector("textarea[name=deduction_reason]");
    var text = input.value.trim();
    var na = (box && box.checked) || NA_WORDS.indexOf(text.toLowerCase()) !== -1;
    var value = Number(text.replace(",", "."));
    var numeric = text !== "" && !isNaN(value);
    var deduction = !na && numeric && value < Number(point.dataset.maxPoints);
    setFlag(point, "data-answered", na || numeric);
    setFlag(point, "data-deduction", deduction);
    setFlag(point, "data-without-reason", deduction && !!reason && reason.value.trim() === "");
    setFlag(point, "data-veto-failed", deduction && point.hasAttribute("data-veto"));
  }

  function setJump(link, target, fallback) {
    if (link) link.setAttribute("href", target ? "#" + target.id : fallback);
  }

  function refresh() {
    var all = points();
    summary.querySelectorAll("[data-summary-dimension]").forEach(function (item) {
      var code = item.getAttribute("data-summary-dimension");
      var mine = all.filter(function (p) { return p.dataset.dimension === code; });
      var answered = mine.filter(function (p) { return p.hasAttribute("data-answered"); });
      var count = item.querySelector("[data-count=answered]");
      count.textContent = answered.length + "/" + mine.length;
      count.classList.toggle("done", answered.length === mine.length);
      var link = item.querySelector("a");
      var first = mine.filter(function (p) { return !p.hasAttribute("data-answered"); })[0];
      if (first) link.setAttribute("href", "#" + first.id);
    });
    [["without-reason", "data-without-reason"], ["veto-failed", "data-veto-failed"]].forEach(function (pair) {
      var count = summary.querySelector("[data-count=" + pair[0] + "]");
      if (!count) return;
      var hits = all.filter(function (p) { return p.hasAttribute(pair[1]); });
      count.textContent = String(hits.length);
      count.closest("li").classList.toggle("open", hits.length > 0);
      setJump(count.closest("a"), hits[0], "#");
    });
  }

  function currentFilter() {
    var checked = summary.querySelector("input[name=show]:checked");
    return checked ? checked.value : "all";
  }
  function applyFilter() {
    var show = currentFilter();
    var shown = 0;
    points().forEach(function (point) {
      var out = (show === "unanswered" && point.hasAttribute("data-answered")) ||
        (show === "deductions" && !point.hasAttribute("data-deduction"));
      // A point being edited stays until the person leaves it.
      if (out && point.contains(document.activeElement)) out = false;
      point.hidden = out;
      if (!out) shown += 1;
    });
    var empty = summary.querySelector("[data-summary-empty]");
    if (empty) empty.hidden = shown > 0;
    if (window.history && window.history.replaceState) {
      var url = new URL(window.location.href);
      if (show === "all") url.searchParams.delete("show");
      else url.searchParams.set("show", show);
      window.history.replaceState(null, "", url.toString());
    }
  }

  // Jumping: the first matching point, then the next one on each further press.
  var lastJump = {};
  function targetsFor(kind, dimension) {
    return points().filter(function (p) {
      if (kind === "unanswered") return p.dataset.dimension === dimension && !p.hasAttribute("data-answered");
      if (kind === "without-reason") return p.hasAttribute("data-without-reason");
      return p.hasAttribute("data-veto-failed");
    });
  }
  summary.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a[data-jump]");
    if (!link) return;
    var kind = link.dataset.jump;
    var key = kind + (link.dataset.dimension || "");
    var targets = targetsFor(kind, link.dataset.dimension);
    if (!targets.length) {
      if (kind !== "unanswered") event.preventDefault();
      return;  // a complete dimension: the link goes to its heading
    }
    event.preventDefault();
    var index = targets.indexOf(lastJump[key]);
    var target = targets[(index + 1) % targets.length];
    lastJump[key] = target;
    target.hidden = false;
    target.scrollIntoView({ block: "start" });
    var field = target.querySelector("input[name=points]") || target.querySelector("a[href], button");
    if (field) field.focus({ preventScroll: true });
  });

  summary.addEventListener("change", function (event) {
    if (event.target.name === "show") applyFilter();
  });
  summary.addEventListener("submit", function (event) {
    event.preventDefault();
    applyFilter();
  });

  function onEdit(event) {
    var point = event.target.closest && event.target.closest("[data-point]");
    if (!point) return;
    readPoint(point);
    refresh();
  }
  document.addEventListener("input", onEdit);
  document.addEventListener("change", onEdit);
  // Leaving a point applies the filter to it (an answered point leaves "only unanswered").
  document.addEventListener("focusout", function (event) {
    var point = event.target.closest && event.target.closest("[data-point]");
    if (!point || currentFilter() === "all") return;
    window.setTimeout(function () {
      if (!point.contains(document.activeElement)) applyFilter();
    }, 0);
  });
  refresh();
})();
