/* The administration screens: the grid page's map draws the saved cells and, before an upload,
   the features of the chosen GeoJSON file (read in the browser; nothing is sent until 导入).
   No inline script (the CSP forbids it). */
(function () {
  "use strict";

  var el = document.getElementById("admin-map");
  var dataEl = document.getElementById("admin-map-data");
  if (!el || !dataEl || !window.L) return;
  var map = L.map(el, { attributionControl: false });
  map.setView([0, 0], 2);  // replaced by the layers' bounds; vector layers need a view to draw
  var saved = L.geoJSON(JSON.parse(dataEl.textContent), {
    style: { color: "#1d4e89", weight: 1, fillOpacity: 0.12 },
    onEachFeature: function (feat, layer) {
      layer.bindTooltip(feat.properties.code + " " + feat.properties.name + " (" + feat.properties.area_class + ")");
    }
  }).addTo(map);
  var file = null;

  function fit() {
    var bounds = L.latLngBounds([]);
    [saved, file].forEach(function (layer) { if (layer && layer.getLayers().length) bounds.extend(layer.getBounds()); });
    if (bounds.isValid()) map.fitBounds(bounds.pad(0.05));
  }

  function preview(input) {
    if (file) { map.removeLayer(file); file = null; }
    var chosen = input.files && input.files[0];
    if (!chosen || !/\.(geo)?json$/i.test(chosen.name)) return;
    chosen.text().then(function (text) {
      // a file that is not GeoJSON is left to the server, which says what is wrong with it
      try {
        file = L.geoJSON(JSON.parse(text), { style: { color: "#e37400", weight: 2, dashArray: "4 3", fillOpacity: 0.1 } });
      } catch (e) {
        return;
      }
      file.addTo(map);
      fit();
    });
  }

  var input = document.getElementById("grid-file");
  if (input) input.addEventListener("change", function () { preview(input); });
  fit();
})();
