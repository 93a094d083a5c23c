/* The analysis dashboard: each card asks its data route under /dashboard/data/ (the analytics over
   the user's own area, from the lake) and draws it with ECharts or as a table; the hotspot card
   draws the grid cells (from /map/areas) coloured by their Gi* bin with Leaflet; the report card
   lists /dashboard/reports. A 404 means the lake has nothing to answer with yet: the card says
   "not available". No inline script (the CSP forbids it). */
(function () {
  "use strict";

  var configEl = document.getElementById("dash-config");
  var form = document.getElementById("dash-filters");
  if (!configEl || !form || !window.echarts) return;
  var config = JSON.parse(configEl.textContent);
  var words = config.words;
  var BRAND = "#1d4e89";
  // Gi* bins -3..3 (99 %, 95 %, 90 % cold … hot), as ArcGIS and PySAL colour them
  var BINS = { "-3": "#2c7bb6", "-2": "#6baed6", "-1": "#bdd7e7", "0": "#eeeeee", "1": "#fdae61", "2": "#f46d43", "3": "#d7191c" };
  var charts = [];

  function slice() {
    var params = new URLSearchParams();
    ["start", "end", "source"].forEach(function (name) {
      if (form.elements[name].value) params.set(name, form.elements[name].value);
    });
    return params;
  }

  function card(key) { return document.getElementById("card-" + key); }

  function say(key, text) {
    var state = card(key).querySelector(".dash-state");
    state.textContent = text;
    state.hidden = !text;
  }

  function load(key, metric, params) {
    return fetchJson(key, "/dashboard/data/" + metric + "?" + params.toString()).then(function (answer) {
      if (!answer) return null;
      say(key, answer.rows.length ? "" : words.empty);
      return answer.rows.length ? answer : null;
    });
  }

  function fetchJson(key, url) {
    return fetch(url, { credentials: "same-origin" }).then(function (res) {
      if (res.status === 404) { say(key, words.unavailable); card(key).classList.add("unavailable"); return null; }
      if (!res.ok) { say(key, words.failed); return null; }
      return res.json();
    }).catch(function () { say(key, words.failed); return null; });
  }

  function chart(key, option) {
    var holder = card(key).querySelector(".chart");
    var c = echarts.init(holder, null, { renderer: "canvas" });
    c.setOption(Object.assign({ animation: false, textStyle: { fontFamily: "inherit" } }, option));
    charts.push(c);
    return c;
  }

  function percent(v) { return v === null || v === undefined ? "—" : (v * 100).toFixed(1) + "%"; }

  function horizontalBars(key, labels, values, extra) {
    chart(key, {
      grid: { left: 8, right: 40, top: 8, bottom: 8, containLabel: true },
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" }, formatter: extra },
      xAxis: { type: "value", minInterval: 1 },
      yAxis: { type: "category", data: labels.slice().reverse(), axisLabel: { width: 150, overflow: "truncate" } },
      series: [{ type: "bar", data: values.slice().reverse(), itemStyle: { color: BRAND }, label: { show: true, position: "right" } }],
    });
  }

  // -- the cards ---------------------------------------------------------------------------------
  var draw = {
    heatmap: function (params) {
      return load("heatmap", "heatmap", params).then(function (a) {
        if (!a) return;
        var data = a.rows.map(function (r) { return [r[1], r[0] - 1, r[2]]; });
        var max = a.rows.reduce(function (m, r) { return Math.max(m, r[2]); }, 1);
        var hours = []; for (var h = 0; h < 24; h++) hours.push(String(h));
        chart("heatmap", {
          grid: { left: 50, right: 16, top: 8, bottom: 60 },
          tooltip: { formatter: function (p) { return config.weekdays[p.value[1]] + " " + p.value[0] + ":00 · " + p.value[2]; } },
          xAxis: { type: "category", data: hours, splitArea: { show: true } },
          yAxis: { type: "category", data: config.weekdays, inverse: true, splitArea: { show: true } },
          visualMap: { min: 0, max: max, calculable: true, orient: "horizontal", left: "center", bottom: 0,
            inRange: { color: ["#f7fbff", "#6baed6", "#08306b"] } },
          series: [{ type: "heatmap", data: data }],
        });
      });
    },
    hot_types: function (params) {
      params.set("limit", "10");
      return load("hot_types", "hot_types", params).then(function (a) {
        if (!a) return;
        var names = a.rows.map(function (r) { return config.categories[r[0]] || r[0] || "—"; });
        horizontalBars("hot_types", names, a.rows.map(function (r) { return r[1]; }), function (items) {
          var r = a.rows[a.rows.length - 1 - items[0].dataIndex];
          return items[0].name + "<br>" + words.count + " " + r[1] + " · " + words.share + " " + percent(r[2]) +
            "<br>" + words.previous + " " + r[3] + " · " + words.change + " " + percent(r[4]);
        });
      });
    },
    compare: function (params) {
      // 同比/环比 take a period and a day, not a range: the month of the end date
      var p = new URLSearchParams();
      p.set("period", "month");
      p.set("at", form.elements.end.value);
      if (params.get("source")) p.set("source", params.get("source"));
      return load("compare", "compare", p).then(function (a) {
        if (!a) return;
        var r = a.rows[0];
        chart("compare", {
          grid: { left: 8, right: 8, top: 30, bottom: 8, containLabel: true },
          tooltip: { trigger: "axis" },
          xAxis: { type: "category", data: [words.last_year, words.previous, words.current] },
          yAxis: { type: "value", minInterval: 1 },
          title: { text: words.mom + " " + percent(r[3]) + "   " + words.yoy + " " + percent(r[5]), left: "center", textStyle: { fontSize: 14 } },
          series: [{ type: "bar", data: [r[4], r[2], r[1]], itemStyle: { color: BRAND }, label: { show: true, position: "top" } }],
        });
      });
    },
    streets: function (params) {
      params.set("by", "street");
      params.set("limit", "10");
      return load("streets", "top", params).then(function (a) {
        if (!a) return;
        var names = a.rows.map(function (r) { return a.names[r[0]] || String(r[0]); });
        horizontalBars("streets", names, a.rows.map(function (r) { return r[1]; }));
      });
    },
    day_kinds: function (params) {
      return load("day_kinds", "day_kinds", params).then(function (a) {
        if (!a) return;
        var rows = a.rows.filter(function (r) { return r[0] !== null; });
        chart("day_kinds", {
          grid: { left: 8, right: 8, top: 16, bottom: 8, containLabel: true },
          tooltip: { trigger: "axis" },
          xAxis: { type: "category", data: rows.map(function (r) { return r[0] ? words.working : words.rest; }) },
          yAxis: { type: "value", name: words.per_day },
          series: [{ type: "bar", data: rows.map(function (r) { return r[3] === null ? 0 : Number(r[3].toFixed(2)); }),
            itemStyle: { color: BRAND }, label: { show: true, position: "top" } }],
        });
      });
    },
    hotspots: function (params) {
      return Promise.all([load("hotspots", "hotspots", params), cells()]).then(function (both) {
        var a = both[0], areas = both[1];
        if (!a || !areas) return;
        var bins = {};
        a.rows.forEach(function (r) { bins[r[0]] = r; });
        var holder = card("hotspots").querySelector(".chart");
        holder.classList.add("map");
        var map = L.map(holder, { attributionControl: false, scrollWheelZoom: false, preferCanvas: true });
        var layer = L.geoJSON(areas.cells, {
          style: function (f) {
            var r = bins[f.properties.code];
            var bin = r ? String(r[4]) : "0";
            return { color: "#8a939d", weight: 0.5, fillColor: BINS[bin], fillOpacity: bin === "0" ? 0.25 : 0.85 };
          },
          onEachFeature: function (f, l) {
            var r = bins[f.properties.code];
            if (r) l.bindTooltip(f.properties.name + " · " + r[1] + " · z " + r[2].toFixed(2));
          },
        });
        if (!areas.cells.features.length) return;
        map.fitBounds(layer.getBounds());
        layer.addTo(map);
        legend(holder);
      });
    },
  };

  var cellsOnce = null;
  function cells() {
    if (!cellsOnce) {
      cellsOnce = fetch("/map/areas", { credentials: "same-origin" }).then(function (res) {
        return res.ok ? res.json() : null;
      }).catch(function () { return null; });
    }
    return cellsOnce;
  }

  function legend(holder) {
    var box = document.createElement("div");
    box.className = "gi-legend";
    [["3", words.hot], ["0", words.none], ["-3", words.cold]].forEach(function (item) {
      var swatch = document.createElement("span");
      swatch.className = "swatch";
      swatch.style.background = BINS[item[0]];
      box.appendChild(swatch);
      box.appendChild(document.createTextNode(item[1] + " "));
    });
    holder.parentNode.insertBefore(box, holder.nextSibling);
  }

  // -- tables ----------------------------------------------------------------------------------
  function cell(row, content, className, title) {
    var td = row.insertCell();
    if (content instanceof Node) td.appendChild(content); else td.textContent = content === null || content === undefined ? "—" : String(content);
    if (className) td.className = className;
    if (title) td.title = title;
    return td;
  }

  function table(key, headings) {
    var holder = card(key).querySelector(".table-holder");
    holder.textContent = "";
    var t = document.createElement("table");
    t.className = "dash-table";
    var head = t.createTHead().insertRow();
    headings.forEach(function (h) { var th = document.createElement("th"); th.scope = "col"; th.textContent = h; head.appendChild(th); });
    holder.appendChild(t);
    return t.createTBody();
  }

  function areaName(a, id) { return id === "all" ? words.all : id === "none" ? "—" : a.names[id] || String(id); }
  function categoryName(key) { return key === "all" ? words.all : key === "none" ? "—" : config.categories[key] || key; }
  // a period's end is exclusive in the data: the reader wants its last day
  function lastDay(end) {
    var d = new Date(end + "T00:00:00Z");
    d.setUTCDate(d.getUTCDate() - 1);
    return d.toISOString().slice(0, 10);
  }
  function fixed(v, n) { return v === null || v === undefined ? "—" : Number(v).toFixed(n); }

  // -- the decision-support cards ----------------------------------------------------------------
  Object.assign(draw, {
    warnings: function (params) {
      return load("warnings", "warnings", params).then(function (a) {
        if (!a) return;
        var areas = [], categories = [], lights = {};
        a.rows.forEach(function (r) {
          if (areas.indexOf(r[0]) < 0) areas.push(r[0]);
          if (categories.indexOf(r[1]) < 0) categories.push(r[1]);
          lights[r[0] + "|" + r[1]] = r;
        });
        var body = table("warnings", [words.area].concat(categories.map(categoryName)));
        areas.forEach(function (area) {
          var row = body.insertRow();
          cell(row, areaName(a, area)).className = "area";
          categories.forEach(function (c) {
            var r = lights[area + "|" + c];
            if (!r) { cell(row, "", "warn none"); return; }
            cell(row, r[2], "warn " + r[6], words[r[6]] + " · " + words.observed + " " + r[2] + " · " +
              words.baseline + " " + fixed(r[3], 1) + " · z " + fixed(r[5], 2));
          });
        });
        var legend = document.createElement("p");
        legend.className = "warn-legend muted";
        ["red", "yellow", "green", "grey"].forEach(function (level) {
          var s = document.createElement("span"); s.className = "warn " + level; s.textContent = words[level];
          legend.appendChild(s);
        });
        card("warnings").querySelector(".table-holder").appendChild(legend);
      });
    },
    forecast: function (params) {
      return load("forecast", "forecast", params).then(function (a) {
        if (!a) return;
        var actual = a.meta.actual;
        var days = actual.map(function (r) { return r[0]; }).concat(a.rows.map(function (r) { return r[2]; }));
        var pad = function (n) { var out = []; for (var i = 0; i < n; i++) out.push(null); return out; };
        var series = a.meta.series["all/all"];
        var scores = {};
        series.backtest.forEach(function (s) { scores[s.model] = s; });
        var chosen = scores[series.model], naive = scores.seasonal_naive;
        var title = words.model + " " + (config.models[series.model] || series.model) + " · " + words.smape + " " +
          fixed(chosen && chosen.smape, 1) + "% · " + words.naive + " " + fixed(naive && naive.smape, 1) + "%";
        card("forecast").setAttribute("data-model", series.model);
        chart("forecast", {
          title: { text: title, left: "center", textStyle: { fontSize: 13, fontWeight: "normal" } },
          grid: { left: 8, right: 16, top: 36, bottom: 30, containLabel: true },
          tooltip: { trigger: "axis" },
          legend: { bottom: 0 },
          xAxis: { type: "category", data: days },
          yAxis: { type: "value", minInterval: 1 },
          series: [
            { name: words.actual, type: "bar", data: actual.map(function (r) { return r[1]; }), itemStyle: { color: BRAND } },
            { name: words.forecast, type: "line", data: pad(actual.length).concat(a.rows.map(function (r) { return r[4]; })),
              lineStyle: { type: "dashed", color: "#e07b00" }, itemStyle: { color: "#e07b00" }, symbolSize: 4 },
          ],
        });
      });
    },
    versus: function (params) {
      return load("versus", "versus", params).then(function (a) {
        if (!a) return;
        var rows = a.rows.slice(0, 15);
        var names = rows.map(function (r) { return (r[8] ? "▲ " : "") + areaName(a, r[0]); });
        chart("versus", {
          grid: { left: 8, right: 40, top: 8, bottom: 30, containLabel: true },
          legend: { bottom: 0 },
          tooltip: { trigger: "axis", axisPointer: { type: "shadow" }, formatter: function (items) {
            var r = rows[rows.length - 1 - items[0].dataIndex];
            return items[0].name + "<br>" + words.reports + " " + r[1] + " · " + words.closed + " " + r[4] + " · " +
              words.penalty_cases + " " + r[5] + "<br>" + words.pressure + " " + fixed(r[7], 2) + (r[8] ? " · " + words.outrun : "");
          } },
          xAxis: { type: "value", minInterval: 1 },
          yAxis: { type: "category", data: names.slice().reverse(), axisLabel: { width: 150, overflow: "truncate" } },
          series: [
            { name: words.reports, type: "bar", data: rows.map(function (r) { return r[1]; }).reverse(), itemStyle: { color: BRAND } },
            { name: words.closed + "+" + words.penalty_cases, type: "bar", data: rows.map(function (r) { return r[6]; }).reverse(), itemStyle: { color: "#3c9a5f" } },
          ],
        });
      });
    },
    duty: function (params) {
      var officers = document.getElementById("duty-officers");
      if (officers && officers.value) params.set("officers", officers.value);
      return load("duty", "duty", params).then(function (a) {
        if (!a) return;
        var shifts = [], areas = [], postings = {};
        a.rows.forEach(function (r) {
          if (shifts.indexOf(r[2]) < 0) shifts.push(r[2]);
          if (areas.indexOf(r[0]) < 0) areas.push(r[0]);
          postings[r[0] + "|" + r[2]] = r;
        });
        var body = table("duty", [words.area].concat(shifts.map(function (s) { return config.shifts[s] || s; })));
        areas.forEach(function (area) {
          var row = body.insertRow();
          cell(row, areaName(a, area)).className = "area";
          shifts.forEach(function (s) {
            var r = postings[area + "|" + s];
            cell(row, r[4], "num", words.expected + " " + fixed(r[3], 1));
          });
        });
      });
    },
    reports: function () {
      return fetchJson("reports", "/dashboard/reports").then(function (list) {
        if (!list) return;
        say("reports", list.length ? "" : words.empty);
        if (!list.length) return;
        var body = table("reports", [words.period, words.area, words.day, words.download]);
        list.forEach(function (r) {
          var row = body.insertRow();
          cell(row, config.periods[r.period] || r.period);
          cell(row, r.area_name);
          cell(row, r.start + " – " + lastDay(r.end));
          var links = document.createElement("span");
          [["html", "HTML"], ["pdf", "PDF"], ["xlsx", "Excel"]].forEach(function (f) {
            var link = document.createElement("a");
            link.href = "/dashboard/reports/" + encodeURIComponent(r.key) + "?format=" + f[0];
            link.textContent = f[1];
            link.setAttribute("download", "");
            links.appendChild(link);
            links.appendChild(document.createTextNode(" "));
          });
          cell(row, links);
        });
      });
    },
  });

  var dutyForm = document.getElementById("duty-form");
  if (dutyForm) dutyForm.addEventListener("submit", function (e) { e.preventDefault(); draw.duty(slice()); });

  Object.keys(draw).forEach(function (key) { if (card(key)) draw[key](slice()); });
  window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
})();
