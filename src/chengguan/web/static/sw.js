/* The officer view's service worker (scope /m/): the shell cached for offline use, task pages
   network-first with the last copy as fallback, and photos and reports made offline queued in
   IndexedDB and sent one at a time when the network is back (one at a time: two requests refreshing the login
   at once would look like a stolen token). */
"use strict";

var SHELL_CACHE = "cg-shell-v1";
var PAGE_CACHE = "cg-pages-v1";
var SHELL = [
  "/static/app.css",
  "/static/app.js",
  "/static/vendor/htmx/htmx.min.js",
  "/static/vendor/leaflet/leaflet.js",
  "/static/vendor/leaflet/leaflet.css",
  "/static/icons/icon-192.png",
  "/m/manifest.webmanifest"
];
// what is queued when offline: a task's photo, a new report (上报)
var UPLOAD = /^\/m\/(events\/\d+\/photos|report)$/;
var DB_NAME = "cg-offline";
var STORE = "uploads";

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(SHELL_CACHE).then(function (c) { return c.addAll(SHELL); }).then(function () {
    return self.skipWaiting();
  }));
});

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (keys) {
    return Promise.all(keys.filter(function (k) { return k !== SHELL_CACHE && k !== PAGE_CACHE; })
      .map(function (k) { return caches.delete(k); }));
  }).then(function () { return self.clients.claim(); }));
});

self.addEventListener("message", function (event) {
  if (event.data === "flush") event.waitUntil(flush());
  if (event.data === "logout") event.waitUntil(caches.delete(PAGE_CACHE));
});

self.addEventListener("fetch", function (event) {
  var request = event.request;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.method === "POST" && UPLOAD.test(url.pathname)) {
    event.respondWith(uploadOrQueue(request));
  } else if (request.method === "GET" && url.pathname.indexOf("/static/") === 0) {
    event.respondWith(caches.match(request).then(function (hit) { return hit || fetch(request); }));
  } else if (request.mode === "navigate" && request.method === "GET") {  // a posted form is never cached
    event.respondWith(networkFirst(request));
  }
});

function networkFirst(request) {
  return fetch(request).then(function (response) {
    if (response.ok) {
      var copy = response.clone();
      caches.open(PAGE_CACHE).then(function (c) { return c.put(request, copy); });
    }
    return response;
  }).catch(function () {
    return caches.match(request).then(function (hit) { return hit || Response.error(); });
  });
}

function uploadOrQueue(request) {
  var copy = request.clone();
  return fetch(request).catch(function () {
    return copy.formData().then(function (form) {
      var entries = [];
      form.forEach(function (value, name) { entries.push([name, value]); });
      return store("readwrite", function (s) { s.add({ url: copy.url, entries: entries, at: Date.now() }); });
    }).then(announce).then(function () {
      return new Response(null, { status: 202, headers: { "X-Queued": "1" } });
    });
  });
}

function openDb() {
  return new Promise(function (resolve, reject) {
    var req = indexedDB.open(DB_NAME, 1);
    req.onupgradeneeded = function () { req.result.createObjectStore(STORE, { keyPath: "id", autoIncrement: true }); };
    req.onsuccess = function () { resolve(req.result); };
    req.onerror = function () { reject(req.error); };
  });
}

function store(mode, work) {
  return openDb().then(function (db) {
    return new Promise(function (resolve, reject) {
      var tx = db.transaction(STORE, mode);
      var result = work(tx.objectStore(STORE));
      tx.oncomplete = function () { resolve(result && result.result); };
      tx.onerror = function () { reject(tx.error); };
    });
  });
}

function queued() {
  return store("readonly", function (s) { return s.getAll(); });
}

function announce() {
  return queued().then(function (items) {
    return self.clients.matchAll().then(function (clients) {
      clients.forEach(function (c) { c.postMessage({ type: "queue", count: items.length }); });
    });
  });
}

// One flush at a time: two running together would both send the items they both read.
var flushing = null;

function flush() {
  if (!flushing) {
    flushing = sendQueued().then(function () { flushing = null; }, function () { flushing = null; });
  }
  return flushing;
}

// Send the queue in order; stop at the first network failure and keep the rest. A refusal (4xx:
// an expired form, a closed case) will not succeed later either, so it leaves the queue.
function sendQueued() {
  return queued().then(function (items) {
    return items.reduce(function (chain, item) {
      return chain.then(function (goOn) {
        if (!goOn) return false;
        var body = new FormData();
        item.entries.forEach(function (pair) { body.append(pair[0], pair[1]); });
        return fetch(item.url, { method: "POST", body: body, credentials: "same-origin" }).then(function (res) {
          if (res.status >= 500) return false;
          return store("readwrite", function (s) { s.delete(item.id); }).then(function () { return true; });
        }, function () { return false; });
      });
    }, Promise.resolve(true));
  }).then(announce);
}
