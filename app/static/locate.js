/* The report form's position: "Choose on the map" (a pin to tap or drag, limited to the region's area),
   "Use my current position", and the latitude/longitude inputs, which stay the truth and work without
   JavaScript. Every change of the position is announced as a "location:changed" event on document. */
(function () {
  "use strict";
  var lat = document.getElementById("latitude");
  var lng = document.getElementById("longitude");
  if (!lat || !lng) { return; }
  var details = lat.closest("details");
  var status = document.querySelector("[data-locate-status]");
  var openButton = document.querySelector("[data-map-open]");
  var box = document.querySelector("[data-map-picker]");
  var locate = document.querySelector("[data-locate]");
  var map = null, marker = null, area = null, L = null;

  function current() {
    var a = parseFloat(String(lat.value).replace(",", ".")), b = parseFloat(String(lng.value).replace(",", "."));
    return isNaN(a) || isNaN(b) ? null : { lat: a, lng: b };
  }

  function announce(pos) {
    document.dispatchEvent(new CustomEvent("location:changed", { detail: { lat: pos.lat, lng: pos.lng } }));
  }

  function inside(pos) { return !area || area.contains([pos.lat, pos.lng]); }

  function placePin(pos, pan) {
    if (!map) { return; }
    if (!marker) {
      marker = L.marker([pos.lat, pos.lng], { draggable: true, autoPan: true, title: box.getAttribute("data-pin-label") || "" });
      marker.on("dragend", function () {
        var p = marker.getLatLng();
        if (!inside({ lat: p.lat, lng: p.lng })) {  // back to the nearest point of the region's box
          p = L.latLng(Math.min(Math.max(p.lat, area.getSouth()), area.getNorth()),
                       Math.min(Math.max(p.lng, area.getWest()), area.getEast()));
          marker.setLatLng(p);
        }
        setInputs({ lat: p.lat, lng: p.lng });
      });
      marker.addTo(map);
    } else {
      marker.setLatLng([pos.lat, pos.lng]);
    }
    if (pan) { map.panTo([pos.lat, pos.lng]); }
  }

  /* Pin or position → inputs (six decimals: about 10 cm). */
  function setInputs(pos) {
    lat.value = pos.lat.toFixed(6);
    lng.value = pos.lng.toFixed(6);
    if (details) { details.open = true; }
    if (status) { status.textContent = inside(pos) ? "" : (box && box.getAttribute("data-outside")) || ""; }
    announce({ lat: parseFloat(lat.value), lng: parseFloat(lng.value) });
  }

  /* Inputs typed by hand → pin. */
  function fromInputs() {
    var pos = current();
    if (!pos) { return; }
    if (map && inside(pos)) { placePin(pos, true); }
    announce(pos);
  }
  lat.addEventListener("change", fromInputs);
  lng.addEventListener("change", fromInputs);

  function openMap() {
    if (!box || !window.laporMap) { return; }
    box.hidden = false;
    if (details) { details.open = true; }
    openButton.setAttribute("aria-expanded", "true");
    if (map) { map.invalidateSize(); return; }
    window.laporMap.load(box, function (leaflet) {
      L = leaflet;
      area = window.laporMap.bounds(L, box);
      var options = {};
      if (area) { options.maxBounds = area.pad(0.05); options.maxBoundsViscosity = 1.0; }
      map = window.laporMap.create(L, box, options);
      if (area) {  // the region's outline: orientation on a plain background too
        L.rectangle(area, { color: "#1f2933", weight: 1, dashArray: "4 4", fill: false, interactive: false }).addTo(map);
      }
      var pos = current();
      if (pos && inside(pos)) { map.setView([pos.lat, pos.lng], 16); placePin(pos, false); }
      else if (area) { map.fitBounds(area); map.setMinZoom(map.getZoom()); }
      else { map.setView([-2.5, 117.5], 5); }
      map.on("click", function (e) {
        var p = { lat: e.latlng.lat, lng: e.latlng.lng };
        if (!inside(p)) { if (status) { status.textContent = box.getAttribute("data-outside") || ""; } return; }
        placePin(p, false);
        setInputs(p);
      });
    });
  }
  if (openButton && box) {
    openButton.hidden = false;
    openButton.addEventListener("click", openMap);
  }

  if (locate && "geolocation" in navigator) {
    locate.hidden = false;
    locate.addEventListener("click", function () {
      status.textContent = locate.getAttribute("data-busy");
      navigator.geolocation.getCurrentPosition(function (p) {
        var pos = { lat: p.coords.latitude, lng: p.coords.longitude };
        setInputs(pos);
        if (map && inside(pos)) { placePin(pos, true); }
      }, function () {
        status.textContent = locate.getAttribute("data-fail");
      }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
    });
  }
})();
