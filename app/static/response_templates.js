// Staff report page: choosing a standard answer fills the reply text (data from the JSON block).
(function () {
  var select = document.getElementById("public_reply-template_id");
  var text = document.getElementById("public_reply-message");
  var data = JSON.parse(document.getElementById("response-templates").textContent);
  if (!select || !text) { return; }
  select.addEventListener("change", function () {
    if (data[select.value] !== undefined) { text.value = data[select.value]; }
  });
})();
