/* 一张图, the command map. The page is a shell; the layers come as JSON from /map/areas (the
   city's own districts, streets and grid cells), /map/aggregate (events per area and light,
   counted by the server) and /map/events (the events in view, when zoomed in). A click on an
   event loads its card from /map/events/<id>/card. No inline script (the CSP forbids it). */
(function () {
  "use strict";

  var el = document.getElementById("command-map");
  var configEl = document.getElementById("map-config");
  if (!el || !configEl || !window.L) return;
  var config = JSON.parse(configEl.textContent);
  var words = config.words;
  var form = document.getElementById("map-filters");
  var statusEl = document.getElementById("map-status");
  var cardEl = document.getElementById("map-card");
  var COLOURS = { red: "#c5221f", yellow: "#e0a800", green: "#1e8e3e", none: "#8a939d" };
  // Which layer a zoom level shows in "auto" mode: whole districts far out, single events close in.
  var EVENTS_ZOOM = 16;
  function levelAt(zoom) {
    if (zoom <= 10) return "district";
    if (zoom <= 12) return "street";
    return "cell";
  }

  var map = L.map(el, { preferCanvas: true, zoomSnap: 0.5, attributionControl: !!config.tiles });
  if (config.tiles) {
    L.tileLayer(config.tiles, { attribution: config.attribution, maxZoom: 19, subdomains: "01234567" }).addTo(map);
  }
  map.setView([0, 0], 2);  // replaced by the areas' bounds; vector layers need a view to draw
  var features = { district: {}, street: {}, cell: {} };  // id → GeoJSON feature
  var base = L.layerGroup().addTo(map);
  var shown = L.layerGroup().addTo(map);
  var request = 0;  // answers to an older request are dropped
  // Events as SVG elements (the areas stay on the faster canvas): each marker is a DOM node that
  // can be clicked, focused and tested.
  var eventRenderer = L.svg();

  function getJSON(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } }).then(function (res) {
      if (res.redirected || !res.ok) throw new Error(url + ": HTTP " + res.status);
      return res.json();
    });
  }

  function filterQuery() {
    var params = new URLSearchParams();
    ["start", "end", "category", "source", "status"].forEach(function (name) {
      var value = form.elements[name].value;
      if (value) params.set(name, value);
    });
    return params;
  }

  function mode() {
    var picked = form.querySelector("input[name=mode]:checked");
    return picked ? picked.value : "auto";
  }

  // -- the city's own geometry ------------------------------------------------------------------
  function drawAreas(areas) {
    var bounds = null;
    [["cells", "cell", { color: "#7d8fa3", weight: 0.6, fill: false }],
     ["streets", "street", { color: "#3f6ea5", weight: 1.5, fill: false, dashArray: "4 3" }],
     ["districts", "district", { color: "#1d4e89", weight: 3, fill: false }]].forEach(function (spec) {
      var layer = L.geoJSON(areas[spec[0]], { style: spec[2], interactive: false });
      areas[spec[0]].features.forEach(function (f) { features[spec[1]][f.properties.id] = f; });
      if (areas[spec[0]].features.length) {
        bounds = bounds ? bounds.extend(layer.getBounds()) : L.latLngBounds(layer.getBounds());
      }
      base.addLayer(layer);
    });
    if (bounds) map.fitBounds(bounds, { padding: [10, 10] });
  }

  // -- the aggregated layer ----------------------------------------------------------------------
  function worst(row) {
    if (row.red) return "red";
    if (row.yellow) return "yellow";
    if (row.green) return "green";
    return "none";
  }

  function breakdown(name, row) {
    var box = document.createElement("div");
    var title = document.createElement("strong");
    title.textContent = name + " · " + words.total + " " + row.total;
    box.appendChild(title);
    ["red", "yellow", "green", "none"].forEach(function (light) {
      if (!row[light]) return;
      var line = document.createElement("div");
      line.textContent = config.lights[light] + " " + row[light];
      box.appendChild(line);
    });
    return box;
  }

  function label(row) {
    var span = document.createElement("span");
    span.className = "map-count map-count-" + worst(row);
    span.textContent = String(row.total);
    return L.divIcon({ html: span, className: "map-count-icon", iconSize: null });
  }

  // The answer is columns (ids, and a count per light for each): one row of them.
  function rowAt(answer, i) {
    var row = { total: 0 };
    ["red", "yellow", "green", "none"].forEach(function (light) {
      row[light] = answer[light][i];
      row.total += row[light];
    });
    return row;
  }

  function drawAggregate(answer) {
    var rows = answer.ids.map(function (id, i) { return rowAt(answer, i); });
    var max = rows.reduce(function (m, row) { return Math.max(m, row.total); }, 1);
    answer.ids.forEach(function (id, i) {
      var row = rows[i];
      var feature = features[answer.level][id];
      if (!feature) return;  // events outside every area of this level (or outside the view's scope)
      var colour = COLOURS[worst(row)];
      var area = L.geoJSON(feature, {
        style: { color: colour, weight: 2, fillColor: colour, fillOpacity: 0.12 + 0.5 * row.total / max },
      });
      area.bindTooltip(breakdown(feature.properties.name, row), { sticky: true });
      area.on("click", function () { map.fitBounds(area.getBounds()); });
      shown.addLayer(area);
      var marker = L.marker(area.getBounds().getCenter(), { icon: label(row), keyboard: false, interactive: false });
      shown.addLayer(marker);
    });
  }

  function showTotals(totals) {
    Object.keys(totals).forEach(function (light) {
      var cell = document.querySelector('#map-totals [data-light="' + light + '"]');
      if (cell) cell.textContent = String(totals[light]);
    });
  }

  // -- single events -----------------------------------------------------------------------------
  function openCard(id) {
    cardEl.textContent = words.loading;
    fetch("/map/events/" + id + "/card", { credentials: "same-origin" }).then(function (res) {
      if (!res.ok) throw new Error("HTTP " + res.status);
      return res.text();
    }).then(function (html) {
      cardEl.innerHTML = html;  // rendered by the server, escaped there
      var link = cardEl.querySelector("a");
      if (link) link.focus();
    }).catch(function () { cardEl.textContent = words.failed; });
  }

  function drawEvents(answer) {
    answer.events.forEach(function (row) {
      var id = row[0], light = row[3];
      var marker = L.circleMarker([row[1], row[2]], {
        radius: config.wall ? 9 : 7, color: "#fff", weight: 1.5, fillColor: COLOURS[light] || COLOURS.none,
        fillOpacity: 0.95, className: "event-marker", renderer: eventRenderer,
      });
      marker.bindTooltip(row[4]);
      marker.on("click", function () { openCard(id); });
      shown.addLayer(marker);
    });
    statusEl.textContent = answer.more ? words.zoom_in.split("{n}").join(String(config.max_events)) : "";
  }

  // -- loading -----------------------------------------------------------------------------------
  function refresh() {
    var mine = ++request;
    var params = filterQuery();
    var picked = mode();
    var events = picked === "events" || (picked === "auto" && map.getZoom() >= EVENTS_ZOOM);
    var level = levelAt(map.getZoom());
    params.set("level", level);
    if (config.wall) params.set("wall", "true");  // the screens of a centre share a minute's counts
    statusEl.textContent = words.loading;
    var loads = [getJSON("/map/aggregate?" + params.toString())];
    if (events) {
      var b = map.getBounds();
      var view = new URLSearchParams(params);
      view.delete("level");
      view.set("bbox", [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map(function (v) {
        return Math.max(-180, Math.min(180, v)).toFixed(6);
      }).join(","));
      loads.push(getJSON("/map/events?" + view.toString()));
    }
    Promise.all(loads).then(function (answers) {
      if (mine !== request) return;
      shown.clearLayers();
      statusEl.textContent = "";
      showTotals(answers[0].totals);
      if (events) drawEvents(answers[1]);
      else drawAggregate(answers[0]);
      var updated = document.getElementById("map-updated");
      updated.textContent = words.updated + " " + new Date(answers[0].at).toLocaleTimeString();
      el.setAttribute("data-layer", events ? "events" : level);
    }).catch(function () {
      if (mine === request) statusEl.textContent = words.failed;
    });
  }

  var pending = null;
  function soon() {
    clearTimeout(pending);
    pending = setTimeout(refresh, 250);
  }

  form.addEventListener("submit", function (e) { e.preventDefault(); refresh(); });
  form.addEventListener("change", function (e) { if (e.target.name === "mode") refresh(); });
  map.on("moveend", soon);
  setInterval(refresh, config.refresh_s * 1000);

  var full = document.getElementById("map-fullscreen");
  if (full) {
    full.addEventListener("click", function () {
      if (document.fullscreenElement) document.exitFullscreen();
      else document.documentElement.requestFullscreen();
    });
  }

  getJSON("/map/areas").then(function (areas) {
    drawAreas(areas);
    refresh();
  }).catch(function () { statusEl.textContent = words.failed; });
})();
