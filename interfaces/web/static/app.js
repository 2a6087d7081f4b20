// Compliance Ledger: the little behaviour the pages need beyond htmx, as a file (the
// Content-Security-Policy allows no inline script).
(function () {
  "use strict";
  // Focus the first invalid field after htmx swaps a refused form back in.
  document.addEventListener("htmx:afterSwap", function (event) {
    var invalid = event.target.querySelector("[aria-invalid='true']");
    if (invalid) { invalid.focus(); }
  });
  // Elements with data-confirm ask before their form is sent.
  document.addEventListener("submit", function (event) {
    var message = event.target.getAttribute("data-confirm");
    if (message && !window.confirm(message)) { event.preventDefault(); }
  }, true);
  // Elements with data-autosubmit send their form when changed (filters).
  document.addEventListener("change", function (event) {
    if (event.target.matches("[data-autosubmit]")) { event.target.form.requestSubmit(); }
  });
})();
