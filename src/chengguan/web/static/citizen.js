/* The citizen portal: the report form's map pick and the public map of recent problems. No
   base tiles unless the city set a tile server: the map draws the districts' own outlines. */
(function () {
  "use strict";

  var AREA_STYLE = { color: "#1d4e89", weight: 1.5, fillColor: "#1d4e89", fillOpacity: 0.05 };
  var STAGE_COLOURS = { received: "#a07800", handling: "#1d4e89", closed: "#1e8e3e" };

  function baseMap(el) {
    var map = L.map(el, { attributionControl: false });
    var tiles = el.getAttribute("data-tiles");
    if (tiles) {
      L.tileLayer(tiles, { attribution: el.getAttribute("data-attribution") || "" }).addTo(map);
      L.control.attribution({ prefix: false }).addTo(map);
    }
    return map;
  }

  function getJSON(url) {
    return fetch(url, { credentials: "same-origin" }).then(function (res) {
      if (!res.ok) throw new Error(url + ": HTTP " + res.status);
      return res.json();
    });
  }

  // The city's districts and streets as the base; the view fits them unless something else sets it.
  function drawAreas(map, url, fit) {
    return getJSON(url).then(function (areas) {
      var layer = L.geoJSON(areas, { style: AREA_STYLE, interactive: false });
      if (fit && areas.features.length) map.fitBounds(layer.getBounds());
      else if (fit) map.setView([35, 105], 4);
      layer.addTo(map);
      return layer;
    });
  }

  // -- the report form -------------------------------------------------------------------------

  function pickMap() {
    var el = document.getElementById("pick-map");
    if (!el || !window.L) return;
    var form = el.closest("form");
    var lon = form.elements.lon, lat = form.elements.lat;
    var picked = document.getElementById("picked");
    var map = baseMap(el);
    var marker = null;

    function place(latlng, zoom) {
      lat.value = latlng.lat.toFixed(6);
      lon.value = latlng.lng.toFixed(6);
      if (marker) marker.setLatLng(latlng);
      else marker = L.circleMarker(latlng, { radius: 9, color: "#b3261e", weight: 3, fillOpacity: 0.8 }).addTo(map);
      picked.textContent = picked.getAttribute("data-template").replace("{lat}", lat.value).replace("{lon}", lon.value);
      if (zoom) map.setView(latlng, Math.max(map.getZoom(), zoom));
    }

    var had = lat.value && lon.value ? L.latLng(parseFloat(lat.value), parseFloat(lon.value)) : null;
    drawAreas(map, el.getAttribute("data-areas"), !had).then(function () {
      if (had) place(had, 15);
    }).catch(function () { map.setView(had || [35, 105], had ? 15 : 4); });
    map.on("click", function (e) { place(e.latlng, 0); });

    var locate = document.getElementById("locate");
    locate.addEventListener("click", function () {
      if (!navigator.geolocation) { picked.textContent = locate.getAttribute("data-failed"); return; }
      navigator.geolocation.getCurrentPosition(function (pos) {
        place(L.latLng(pos.coords.latitude, pos.coords.longitude), 15);
      }, function () { picked.textContent = locate.getAttribute("data-failed"); },
      { enableHighAccuracy: true, timeout: 8000, maximumAge: 30000 });
    });
  }

  // -- the public map --------------------------------------------------------------------------

  function publicMap() {
    var el = document.getElementById("public-map");
    if (!el || !window.L) return;
    var map = baseMap(el);
    var summary = document.getElementById("map-summary");
    drawAreas(map, el.getAttribute("data-areas"), true).then(function () {
      return getJSON(el.getAttribute("data-problems"));
    }).then(function (data) {
      var total = 0;
      data.points.forEach(function (p) {  // [lat, lon, category, stage, count]
        total += p[4];
        var label = (data.categories[p[2]] || p[2]) + " · " + el.getAttribute("data-stage-" + p[3]) + " · " +
          el.getAttribute("data-count").replace("{n}", String(p[4]));
        var text = document.createElement("span");
        text.textContent = label;  // names are data: never parsed as HTML
        L.circleMarker([p[0], p[1]], {
          radius: Math.min(6 + 2 * Math.sqrt(p[4]), 20), color: STAGE_COLOURS[p[3]], weight: 2, fillOpacity: 0.55
        }).bindPopup(text).addTo(map);
      });
      summary.textContent = summary.getAttribute("data-template").replace("{n}", String(total));
    });
  }

  pickMap();
  publicMap();
})();
