/* "Is this already reported?" on the report form (issue 16): when the place or the title changes, ask
   /<region>/lapor/sekitar for open public reports nearby and list them in #nearby, with a link to each
   report's public page and one to follow it. Without JavaScript the panel stays hidden. */
(function () {
  var panel = document.getElementById("nearby");
  if (!panel || !window.fetch || !window.URLSearchParams) { return; }
  var list = panel.querySelector("[data-nearby-list]");
  var live = document.querySelector("[data-nearby-live]");
  var lat = document.getElementById("latitude");
  var lng = document.getElementById("longitude");
  var title = document.getElementById("title");
  var category = document.getElementById("category_id");
  var timer = null, last = "", seq = 0, point = null;

  function num(value) {
    var n = parseFloat(String(value == null ? "" : value).replace(",", "."));
    return isFinite(n) ? n : null;
  }
  function text(template, key, value) { return (template || "").replace("{" + key + "}", value); }
  function el(tag, className, content) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (content != null) { node.textContent = content; }
    return node;
  }

  function show(reports) {
    list.textContent = "";
    reports.forEach(function (r) {
      var item = el("li");
      if (r.thumbnail) {
        var img = el("img");
        img.src = r.thumbnail;
        img.alt = text(panel.dataset.photo, "code", r.code);
        img.loading = "lazy";
        item.appendChild(img);
      }
      var body = el("div");
      var heading = el("p", "nearby-title");
      var link = el("a", null, r.title);
      link.href = r.url;
      link.target = "_blank";
      link.rel = "noopener";
      heading.appendChild(link);
      body.appendChild(heading);
      var meta = el("p");
      meta.appendChild(el("span", "status " + r.status, r.status_label));
      var facts = [text(panel.dataset.distance, "m", r.distance_m)];
      if (r.category) { facts.push(r.category); }
      facts.push(text(panel.dataset.date, "date", r.submitted_label));
      meta.appendChild(document.createTextNode(" "));
      meta.appendChild(el("span", "muted", facts.join(" · ")));
      body.appendChild(meta);
      var follow = el("a", "btn secondary", panel.dataset.follow);
      follow.href = r.follow_url;
      follow.setAttribute("aria-label", panel.dataset.follow + ": " + r.title + " (" + r.code + ")");
      body.appendChild(follow);
      item.appendChild(body);
      list.appendChild(item);
    });
    panel.hidden = reports.length === 0;
    live.textContent = reports.length ? text(panel.dataset.found, "n", reports.length) : "";
  }

  function lookup() {
    var a = point ? point.lat : num(lat && lat.value);
    var b = point ? point.lng : num(lng && lng.value);
    point = null;
    if (a === null || b === null) { last = ""; show([]); return; }
    var params = new URLSearchParams({ lat: a.toFixed(6), lon: b.toFixed(6) });
    if (category && category.value) { params.set("category", category.value); }
    if (title && title.value.trim()) { params.set("q", title.value.trim().slice(0, 200)); }
    var url = panel.dataset.url + "?" + params.toString();
    if (url === last) { return; }
    last = url;
    var mine = ++seq;
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) { if (data && mine === seq) { show(data.reports || []); } })
      .catch(function () { /* offline or limited: the form works without the panel */ });
  }
  function later(ms) { clearTimeout(timer); timer = setTimeout(lookup, ms); }

  document.addEventListener("location:changed", function (event) {
    var d = event.detail || {};
    if (num(d.lat) !== null && num(d.lng) !== null) { point = { lat: num(d.lat), lng: num(d.lng) }; }
    later(250);
  });
  [lat, lng].forEach(function (input) {
    if (!input) { return; }
    // Typed inputs are the truth: a position announced earlier no longer counts.
    input.addEventListener("input", function () { point = null; later(600); });
    input.addEventListener("change", function () { point = null; later(100); });
  });
  if (title) { title.addEventListener("input", function () { later(800); }); }
  if (category) { category.addEventListener("change", function () { later(100); }); }
  if (lat && lng && lat.value && lng.value) { later(0); }
})();
