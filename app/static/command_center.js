/* Command center wall screen: polls the board's JSON and redraws it; no reloads, no inline script.
   Everything shown comes from the JSON as text (textContent), never as HTML. */
(function () {
  "use strict";
  var root = document.getElementById("command-center");
  if (!root) { return; }
  var d = root.dataset;
  var refreshMs = Math.max(5, parseInt(d.refresh, 10) || 30) * 1000;
  var lastGood = null;
  var map = null, pinLayer = null, emptyNote = null, fitted = false;

  if (d.brand && /^#[0-9a-fA-F]{6}$/.test(d.brand)) {
    document.documentElement.style.setProperty("--brand", d.brand);
  }

  function fill(template, key, value) { return String(template || "").split("{" + key + "}").join(value); }

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) { node.className = cls; }
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }

  function get(obj, path) {
    return path.split(".").reduce(function (o, k) { return o == null ? undefined : o[k]; }, obj);
  }

  /* Clock in the region's own time zone. */
  var clock = document.getElementById("cc-time");
  var clockFormat = null;
  try {
    clockFormat = new Intl.DateTimeFormat(d.locale === "en" ? "en-GB" : "id-ID",
      { hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false, timeZone: d.timezone });
  } catch (e) { clockFormat = null; }
  function tick() { if (clock && clockFormat) { clock.textContent = clockFormat.format(new Date()).replace(/\./g, ":"); } }
  tick();
  setInterval(tick, 1000);

  /* Map: tiles only if a tile server is configured; failed tiles leave the plain background. */
  function initMap() {
    var box = document.getElementById("cc-map");
    if (!box || !window.L) { return; }
    map = window.L.map(box, { zoomControl: false, attributionControl: !!d.tileUrl, preferCanvas: false });
    if (d.tileUrl) {
      window.L.tileLayer(d.tileUrl, { maxZoom: 18, attribution: d.tileAttribution || "" }).addTo(map);
    }
    map.setView([-2.5, 117.5], 5);
    pinLayer = window.L.layerGroup().addTo(map);
    emptyNote = el("div", "empty");
    emptyNote.hidden = true;
    box.appendChild(emptyNote);
  }

  var COLORS = { overdue: "#f56565", due_soon: "#ecc94b", on_time: "#48bb78", open: "#63b3ed", done: "#718096" };

  function renderMap(data) {
    if (!map) { return; }
    var pins = (data.map && data.map.pins) || [];
    pinLayer.clearLayers();
    var bounds = [];
    pins.forEach(function (p) {
      var color = COLORS[p.state] || COLORS.open;
      var marker = window.L.circleMarker([p.lat, p.lng], {
        radius: p.state === "overdue" ? 11 : 8, color: "#0c141c", weight: 2, fillColor: color, fillOpacity: 0.9
      });
      // Leaflet inserts a string tooltip as HTML; a DOM node built with textContent stays text.
      marker.bindTooltip(el("span", "", [p.code, p.title, p.status_label].join(" · ")));
      marker.addTo(pinLayer);
      bounds.push([p.lat, p.lng]);
    });
    emptyNote.hidden = pins.length > 0;
    emptyNote.textContent = fill(d.tNoPins, "n", (data.map && data.map.days) || 30);
    if (!fitted && bounds.length) {
      map.fitBounds(bounds, { padding: [30, 30], maxZoom: 14 });
      fitted = true;
    }
  }

  function renderFields(data) {
    var nodes = root.querySelectorAll("[data-field]");
    for (var i = 0; i < nodes.length; i++) {
      var value = get(data, nodes[i].getAttribute("data-field"));
      nodes[i].textContent = value === undefined ? "–" : String(value);
    }
  }

  function renderAgencies(rows) {
    var body = document.getElementById("cc-agency-rows");
    if (!body) { return; }
    body.textContent = "";
    rows.forEach(function (a) {
      var tr = el("tr", a.unit ? "unit" : "");
      var name = el("td", "", a.name);
      if (a.full_name) { name.title = a.full_name; }
      tr.appendChild(name);
      tr.appendChild(el("td", "num", a.incoming));
      tr.appendChild(el("td", "num", a.open));
      tr.appendChild(el("td", "num" + (a.due_soon ? " hot-soon" : ""), a.due_soon));
      tr.appendChild(el("td", "num" + (a.overdue ? " hot-late" : ""), a.overdue));
      body.appendChild(tr);
    });
  }

  function renderList(id, items, kind) {
    var list = document.getElementById(id);
    if (!list) { return; }
    list.textContent = "";
    if (!items.length) { list.appendChild(el("li", "none", d.tEmpty)); return; }
    items.forEach(function (c) {
      var li = el("li");
      li.appendChild(el("span", "code", c.code));
      li.appendChild(el("span", "title", c.title));
      var meta = el("span", "meta");
      var parts = [];
      if (kind === "overdue") {
        var late = c.late_working_days ? fill(d.tLate, "n", c.late_working_days) : d.tLateToday;
        meta.appendChild(el("span", "late", late));
        parts.push("");
      } else if (kind === "due_soon") {
        parts.push(fill(d.tDue, "when", c.due));
      } else {
        parts.push(c.received);
      }
      parts.push(c.agencies.length ? c.agencies.join(", ") : (c.stage || c.status_label));
      if (c.category) { parts.push(c.category); }
      meta.appendChild(document.createTextNode(parts.join(" · ")));
      li.appendChild(meta);
      list.appendChild(li);
    });
  }

  function setStatus(text, stale) {
    var status = document.getElementById("cc-status");
    if (!status) { return; }
    status.textContent = text;
    status.classList.toggle("stale", !!stale);
  }

  function render(data) {
    lastGood = data;
    renderFields(data);
    renderAgencies(data.agencies || []);
    renderList("cc-overdue", data.overdue || [], "overdue");
    renderList("cc-due-soon", data.due_soon || [], "due_soon");
    renderList("cc-incoming", data.incoming || [], "incoming");
    renderMap(data);
    setStatus(fill(d.tUpdated, "when", data.generated_label), false);
  }

  function load() {
    fetch(d.url, { credentials: "same-origin", cache: "no-store", headers: { Accept: "application/json" } })
      .then(function (resp) {
        var type = resp.headers.get("Content-Type") || "";
        if (resp.redirected || type.indexOf("application/json") === -1) { throw new Error("signed-out"); }
        if (!resp.ok) { throw new Error("http " + resp.status); }
        return resp.json();
      })
      .then(render)
      .catch(function (err) {
        if (err && err.message === "signed-out") { setStatus(d.tSignedOut, true); return; }
        setStatus(fill(d.tStale, "when", lastGood ? lastGood.generated_label : "–"), true);
      })
      .then(function () { setTimeout(load, refreshMs); });
  }

  function start() { initMap(); load(); }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();
