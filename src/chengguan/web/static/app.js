/* chengguan pages: the event map, the phone forms' GPS and time, the officer view's service
   worker and its offline queue. No inline scripts anywhere (the CSP forbids them). */
(function () {
  "use strict";

  function drawMap() {
    var el = document.getElementById("map");
    var dataEl = document.getElementById("map-data");
    if (!el || !dataEl || !window.L) return;
    var data = JSON.parse(dataEl.textContent);
    // No base tiles by default: the map draws the city's own geometry (works offline).
    var map = L.map(el, { attributionControl: false, scrollWheelZoom: false });
    var layers = [];
    if (data.cell) {
      layers.push(L.geoJSON(data.cell, { style: { color: "#1d4e89", weight: 2, fillOpacity: 0.08 } }));
    }
    if (data.point) {
      layers.push(L.circleMarker(data.point, { radius: 8, color: "#b3261e", weight: 3, fillOpacity: 0.8 }));
    }
    // the view first: vector layers added to a map without one fail to draw
    if (layers.length) map.fitBounds(L.featureGroup(layers).getBounds().pad(0.2), { maxZoom: 17 });
    else map.setView([0, 0], 1);
    layers.forEach(function (layer) { layer.addTo(map); });
  }

  // The phone's place into a form's lon/lat (and shown in its [data-where] line).
  function locate(form) {
    var where = form.querySelector("#photo-where, [data-where]");
    if (!navigator.geolocation) return;
    navigator.geolocation.getCurrentPosition(function (pos) {
      form.elements.lat.value = pos.coords.latitude.toFixed(6);
      form.elements.lon.value = pos.coords.longitude.toFixed(6);
      if (where) where.textContent = "GPS " + form.elements.lat.value + ", " + form.elements.lon.value;
    }, function () { /* no fix or refused: the photo goes without a place */ },
    { enableHighAccuracy: true, timeout: 8000, maximumAge: 30000 });
  }

  // The photo's time and place as the phone knows them when it is taken.
  function stampPhoto(input) {
    input.form.elements.collected_at.value = new Date().toISOString();
    locate(input.form);
  }

  // A report form's own id (its external id): new for every report, also on a page the service
  // worker kept, so that two reports queued offline are not taken for one sent twice.
  function freshSubmission(form) {
    var field = form.elements.submission;
    if (field && window.crypto && crypto.randomUUID) field.value = crypto.randomUUID();
  }

  document.addEventListener("change", function (e) {
    if (e.target && e.target.matches("#photo, [data-stamp]")) stampPhoto(e.target);
  });

  // The service worker answers 202 when it queued a form sent offline.
  document.addEventListener("htmx:afterRequest", function (e) {
    var form = e.detail.elt;
    if (form && form.hasAttribute("data-queued") && e.detail.xhr && e.detail.xhr.status === 202) {
      form.querySelector("p.notice").textContent = form.getAttribute("data-queued");
      form.reset();
      freshSubmission(form);
    }
  });

  document.querySelectorAll("form[data-locate]").forEach(function (form) {
    freshSubmission(form);
    locate(form);
  });

  function showNetwork(queued) {
    var el = document.getElementById("net-status");
    if (!el) return;
    var parts = [];
    if (!navigator.onLine) parts.push(el.getAttribute("data-offline"));
    if (queued) parts.push(el.getAttribute("data-queued").replace("{n}", String(queued)));
    el.textContent = parts.join(" ");
    el.hidden = parts.length === 0;
  }

  function startWorker() {
    if (!("serviceWorker" in navigator)) return;
    var phone = document.body.classList.contains("phone");
    if (phone) {
      navigator.serviceWorker.register("/m/sw.js", { scope: "/m/" });
      navigator.serviceWorker.addEventListener("message", function (e) {
        if (e.data && e.data.type === "queue") showNetwork(e.data.count);
      });
      var flush = function () {
        showNetwork(0);
        navigator.serviceWorker.ready.then(function (reg) { reg.active.postMessage("flush"); });
      };
      window.addEventListener("online", flush);
      window.addEventListener("offline", function () { showNetwork(0); });
      flush();
    } else if (document.body.classList.contains("login")) {
      // after a logout: the pages the officer view kept for offline use go too
      navigator.serviceWorker.getRegistration("/m/").then(function (reg) {
        if (reg && reg.active) reg.active.postMessage("logout");
      });
    }
  }

  drawMap();
  startWorker();
})();
