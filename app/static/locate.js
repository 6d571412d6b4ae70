/* "Use my current position" on the report form: fills the latitude/longitude inputs.
   Optional: without JavaScript or without permission the inputs are typed by hand or left empty. */
(function () {
  var button = document.querySelector("[data-locate]");
  if (!button || !("geolocation" in navigator)) { return; }
  var status = document.querySelector("[data-locate-status]");
  var lat = document.getElementById("latitude");
  var lng = document.getElementById("longitude");
  button.hidden = false;
  button.addEventListener("click", function () {
    status.textContent = button.getAttribute("data-busy");
    navigator.geolocation.getCurrentPosition(function (pos) {
      lat.value = pos.coords.latitude.toFixed(6);
      lng.value = pos.coords.longitude.toFixed(6);
      status.textContent = "";
    }, function () {
      status.textContent = button.getAttribute("data-fail");
    }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
  });
})();
