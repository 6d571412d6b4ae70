/* "Copy link" on the confirmation page: copies the private link and says so in a status message.
   Without JavaScript the button stays hidden; the link can still be selected and copied by hand. */
(function () {
  var button = document.querySelector("[data-copy]");
  if (!button) { return; }
  var source = document.getElementById(button.getAttribute("data-copy"));
  var status = document.querySelector("[data-copy-status]");
  if (!source || !status) { return; }

  function fallback() {
    // Older browsers, or a page not served over HTTPS: select the text and use the legacy command.
    source.focus();
    source.select();
    var ok = false;
    try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
    return ok;
  }

  function report(ok) {
    status.textContent = button.getAttribute(ok ? "data-done" : "data-fail");
  }

  button.hidden = false;
  button.addEventListener("click", function () {
    status.textContent = "";
    var text = source.value;
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(function () { report(true); }, function () { report(fallback()); });
    } else {
      report(fallback());
    }
  });
})();
