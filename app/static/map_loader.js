/* Maps on demand: Leaflet's stylesheet and script are added to the page only when a map is shown (the
   report form's "Choose on the map", a report's position, the public map of reports). Tiles come from
   the deployment's MAP_TILE_URL; without tiles (or when they fail) the pins stand on a plain background.
   Everything shown comes from data attributes as text (textContent), never as HTML. */
(function () {
  "use strict";
  var state = "idle", waiting = [];

  function load(el, done) {
    if (state === "ready") { done(window.L); return; }
    waiting.push(done);
    if (state === "loading") { return; }
    state = "loading";
    var pending = 2;
    function one() {
      pending -= 1;
      if (pending === 0 && window.L) {
        state = "ready";
        waiting.splice(0).forEach(function (fn) { fn(window.L); });
      } else if (pending === 0) {
        state = "idle";
      }
    }
    var link = document.createElement("link");
    link.rel = "stylesheet";
    link.href = el.getAttribute("data-leaflet-css");
    link.onload = link.onerror = one;
    document.head.appendChild(link);
    var script = document.createElement("script");
    script.src = el.getAttribute("data-leaflet-js");
    script.onload = script.onerror = one;
    document.head.appendChild(script);
  }

  function bounds(L, el) {
    var box = (el.getAttribute("data-bbox") || "").split(",").map(parseFloat);
    if (box.length !== 4 || box.some(isNaN)) { return null; }
    return L.latLngBounds([box[0], box[1]], [box[2], box[3]]);
  }

  /* A Leaflet map on ``el`` with the configured basemap. */
  function create(L, el, options) {
    var map = L.map(el, options || {});
    var url = el.getAttribute("data-tile-url");
    if (url) {
      L.tileLayer(url, { maxZoom: 19, attribution: el.getAttribute("data-tile-attribution") || "" }).addTo(map);
    }
    map.attributionControl.setPrefix(false);
    return map;
  }

  function whenVisible(el, fn) {
    if (!("IntersectionObserver" in window)) { fn(); return; }
    var seen = new IntersectionObserver(function (entries) {
      if (entries.some(function (e) { return e.isIntersecting; })) { seen.disconnect(); fn(); }
    }, { rootMargin: "200px" });
    seen.observe(el);
  }

  /* A report's position: one pin, loaded when scrolled into view. */
  function showPosition(el) {
    var lat = parseFloat(el.getAttribute("data-lat")), lng = parseFloat(el.getAttribute("data-lng"));
    if (isNaN(lat) || isNaN(lng)) { return; }
    el.hidden = false;
    whenVisible(el, function () {
      load(el, function (L) {
        var map = create(L, el, { scrollWheelZoom: false });
        // Leaflet adds focusable zoom buttons: an "img" may not hold them (axe nested-interactive).
        el.setAttribute("role", "region");
        map.setView([lat, lng], 16);
        L.marker([lat, lng], { keyboard: false }).addTo(map);
      });
    });
  }

  /* The public map of reports: pins from the JSON at data-points-url (the page's filters applied). */
  function showPoints(el) {
    el.hidden = false;
    var legend = el.parentNode.querySelector("[data-map-legend]");
    if (legend) { legend.hidden = false; }
    whenVisible(el, function () {
      load(el, function (L) {
        var map = create(L, el, { scrollWheelZoom: false });
        var area = bounds(L, el);
        if (area) { map.fitBounds(area); } else { map.setView([-2.5, 117.5], 5); }
        fetch(el.getAttribute("data-points-url"), { credentials: "same-origin" })
          .then(function (r) { return r.ok ? r.json() : { points: [] }; })
          .then(function (data) { drawPoints(L, map, data.points || []); })
          .catch(function () { /* the list below the map shows the same reports */ });
      });
    });
  }

  function drawPoints(L, map, points) {
    var coords = [];
    points.forEach(function (p) {
      var marker = L.circleMarker([p.lat, p.lng], { radius: 7, color: "#1f2933", weight: 1,
        fillColor: p.open ? "#c05621" : "#2f855a", fillOpacity: 0.85 });
      var box = document.createElement("div");
      var link = document.createElement("a");
      link.href = p.url;
      link.textContent = p.code;
      box.appendChild(link);
      box.appendChild(document.createElement("br"));
      box.appendChild(document.createTextNode(p.title));
      box.appendChild(document.createElement("br"));
      var status = document.createElement("em");
      status.textContent = p.status;
      box.appendChild(status);
      marker.bindPopup(box);
      marker.addTo(map);
      coords.push([p.lat, p.lng]);
    });
    if (coords.length) { map.fitBounds(coords, { padding: [20, 20], maxZoom: 15 }); }
  }

  window.laporMap = { load: load, create: create, bounds: bounds };
  Array.prototype.forEach.call(document.querySelectorAll("[data-map-view]"), showPosition);
  Array.prototype.forEach.call(document.querySelectorAll("[data-map-points]"), showPoints);
})();
