// Small behaviours of every page, bound here rather than in inline handlers (the pages' CSP
// allows no inline script): "select all" boxes, confirmations, back and print links.
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var all = event.target.closest("[data-check-all]");
    if (all) {
      document.querySelectorAll("input[name='" + all.dataset.checkAll + "']").forEach(function (box) {
        box.checked = all.checked;
      });
      return;
    }
    var action = event.target.closest("[data-action]");
    if (action && action.dataset.action === "back") { event.preventDefault(); history.back(); }
    if (action && action.dataset.action === "print") { event.preventDefault(); window.print(); }
  });
  document.addEventListener("submit", function (event) {
    var message = event.target.dataset && event.target.dataset.confirm;
    if (message && !window.confirm(message)) { event.preventDefault(); }
  });
})();
