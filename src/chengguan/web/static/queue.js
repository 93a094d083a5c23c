/* The clerk's queue and the 会商 queue: a small map per item (the report, the events it may
   repeat), drawn again when htmx brings an item back with its errors; on a report with no place
   a click on the map fills the form's coordinates. The forms work without this file. */
(function () {
  "use strict";

  var REPORT = { radius: 8, color: "#b3261e", weight: 3, fillOpacity: 0.8 };
  var EVENT = { radius: 7, color: "#1d4e89", weight: 3, fillOpacity: 0.5 };

  function pickPlace(map, el) {
    var item = el.closest(".queue-item");
    var lon = item && item.querySelector("input[name=lon]");
    var lat = item && item.querySelector("input[name=lat]");
    if (!lon || !lat) return;
    var marker = null;
    if (lon.value && lat.value) marker = L.circleMarker([+lat.value, +lon.value], REPORT).addTo(map);
    map.on("click", function (e) {
      lat.value = e.latlng.lat.toFixed(6);
      lon.value = e.latlng.lng.toFixed(6);
      if (marker) marker.setLatLng(e.latlng);
      else marker = L.circleMarker(e.latlng, REPORT).addTo(map);
    });
  }

  function draw(el) {
    var dataEl = el.nextElementSibling;
    if (el.getAttribute("data-drawn") || !dataEl || !window.L) return;
    el.setAttribute("data-drawn", "yes");
    var data = JSON.parse(dataEl.textContent);
    var map = L.map(el, { attributionControl: false, scrollWheelZoom: false });
    var layers = [];
    if (data.report) {
      layers.push(L.circleMarker(data.report, REPORT).bindTooltip(el.getAttribute("data-label-report")));
    }
    data.events.forEach(function (e) {
      layers.push(L.circleMarker([e[0], e[1]], EVENT).bindTooltip(e[2]));
    });
    // the view first: vector layers added to a map without one fail to draw
    if (layers.length) map.fitBounds(L.featureGroup(layers).getBounds().pad(0.3), { maxZoom: 17 });
    else if (data.area) map.fitBounds(data.area);
    else map.setView([0, 0], 1);
    layers.forEach(function (layer) { layer.addTo(map); });
    if (el.getAttribute("data-pick")) pickPlace(map, el);
  }

  function drawAll(root) {
    var maps = root.querySelectorAll ? root.querySelectorAll(".queue-map") : [];
    Array.prototype.forEach.call(maps, draw);
  }

  if (window.htmx) window.htmx.onLoad(drawAll);
  else drawAll(document);
})();
