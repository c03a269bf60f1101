/* circles: the interactive coverage map (map.html). Reads the JSON in #circles-data; draws
 * with Leaflet (inlined). Vector layers only: no image and no request unless a basemap is asked. */
(function () {
  "use strict";
  var D = JSON.parse(document.getElementById("circles-data").textContent);
  var M = D.meta, W = M.words, THEMES = M.themes;
  var NO_DATA = "#d9d9d9", UNMET = "#c8102e", OFF = "#6e6e6e", AREA = "#2b6cb0";

  function say(key, values) {
    var text = W[key] === undefined ? key : W[key];
    return text.replace(/\{(\w+)\}/g, function (_, k) {
      return values && values[k] !== undefined ? values[k] : "";
    });
  }
  function esc(text) {
    return String(text === null || text === undefined ? "" : text)
      .replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
  }
  function pct(ratio) {
    if (ratio === null || ratio === undefined) return "–";
    return say("web_pct", { value: (100 * ratio).toFixed(1) });
  }
  function kv(key, value) {  // "key: value" in the page's language; value is HTML already
    return W.web_kv.replace("{key}", function () { return esc(key); })
      .replace("{value}", function () { return value; });
  }
  function num(value) {
    return value === null || value === undefined ? "–" : Math.round(value).toLocaleString("en-US");
  }
  function colour(ratio) {
    if (ratio === null || ratio === undefined) return NO_DATA;
    var i = Math.round(Math.max(0, Math.min(1, ratio)) * (M.colours.length - 1));
    return M.colours[i];
  }
  function bits(text) {
    var raw = atob(text), out = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
    return out;
  }
  function bit(mask, i) { return (mask[i >> 3] >> (i & 7)) & 1; }

  var map = L.map("map", { zoomSnap: 0.25, attributionControl: false, zoomControl: false, renderer: L.svg({ padding: 0.5 }) });
  var panes = { communities: 410, areas: 420, residents: 430, facilities: 440 };
  Object.keys(panes).forEach(function (name) {
    map.createPane(name).style.zIndex = panes[name];
  });
  map.getPane("residents").style.pointerEvents = "none";
  var residentCanvas = L.canvas({ pane: "residents", padding: 0.5 });

  // the optional online basemap (none by default: nothing is loaded from the internet)
  if (M.basemap.tiles.length) {
    L.control.attribution({ prefix: false }).addTo(map);
    M.basemap.tiles.forEach(function (t) {
      var options = { attribution: t.attribution, maxZoom: t.max_zoom || 18 };
      if (t.subdomains) options.subdomains = t.subdomains;
      if (t.referrer_policy) options.referrerPolicy = t.referrer_policy;
      L.tileLayer(t.url, options).addTo(map);
    });
  } else {
    document.getElementById("map").classList.add("circles-plain");
  }

  // --- the rule of a theme, with its sources ---------------------------------------------------
  function source(s) {
    if (!s) return "";
    var tag = s.tag ? esc(say("web_paren", { text: s.tag })) : "";
    return '<div class="src' + (s.unverified ? " unverified" : "") + '">' +
      kv(say("web_source"), esc(s.ref || "–") + tag) + "</div>";
  }
  function ruleHtml(i) {
    var t = THEMES[i], out = '<div class="rule">';
    out += '<div class="rule-title">' + esc(t.circle_name) + " — " + esc(t.label) + "</div>";
    if (t.description) out += '<div class="desc">' + esc(t.description) + "</div>";
    out += "<table>";
    t.lines.forEach(function (line) {
      out += "<tr><th>" + esc(line.key) + "</th><td>" + esc(line.value) + source(line.source) + "</td></tr>";
    });
    if (t.model) out += "<tr><th>" + esc(say("model")) + "</th><td>" + esc(t.model) + "</td></tr>";
    out += "</table></div>";
    return out;
  }

  // --- communities: one layer, shaded by the chosen theme -----------------------------------
  var theme = M.circles.length ? M.circles[0].themes[0] : -1;
  function communityStyle(feature) {
    if (theme < 0) {
      return { pane: "communities", color: "#555", weight: 1, fillColor: "#f2f0eb", fillOpacity: 0.6 };
    }
    var r = feature.properties.c[theme];
    var opacity = M.basemap.tiles.length ? 0.55 : 0.72;  // the basemap shows through
    return { pane: "communities", color: "#4a4a4a", weight: 0.8, fillColor: colour(r), fillOpacity: opacity };
  }
  function communityTip(layer) {
    var p = layer.feature.properties, out = "<b>" + esc(p.n) + "</b>";
    if (theme >= 0) {
      var value = esc(pct(p.c[theme]));
      if (p.c[theme] !== null) value += esc(say("web_of", { met: num(p.m[theme]), total: num(p.p) }));
      out += "<br>" + kv(THEMES[theme].label, value);
    } else {
      out += "<br>" + kv(say("population_total"), num(p.p));
    }
    return out;
  }
  function communityPopup(layer) {
    var p = layer.feature.properties, out = '<div class="head">' + esc(p.n) + "</div>";
    if (p.s) out += "<div>" + kv(say("subdistrict"), esc(p.s)) + "</div>";
    out += "<div>" + kv(say("population_total"), num(p.p)) + "</div>";
    if (theme >= 0) {
      var t = THEMES[theme], value = "<b>" + esc(pct(p.c[theme])) + "</b>";
      if (p.c[theme] !== null) value += esc(say("web_of", { met: num(p.m[theme]), total: num(p.p) }));
      if (p.g[theme] === true) value += ' <span class="gap">' + esc(say("web_gap_below", { target: pct(t.target) })) + "</span>";
      out += "<div>" + kv(say("web_coverage"), value) + "</div>" + ruleHtml(theme);
    }
    return out;
  }
  var communities = null;
  if (D.communities) {
    communities = L.geoJSON(D.communities, { style: communityStyle }).addTo(map);
    communities.bindTooltip(communityTip, { sticky: true, direction: "top", opacity: 0.95 });
  }

  // --- layers made on first use: residents not met, service areas, facilities --------------
  var R = M.residents, xy = R.xy, made = {};
  function residentsLayer(i) {
    var key = "unmet" + i;
    if (made[key]) return made[key];
    var group = L.layerGroup(), unmet = bits(R.unmet[i]), off = R.theme_off[i];
    var offMask = off === null || off === undefined ? null : bits(R.off[off]);
    var small = R.shown > 20000 ? 1.5 : R.shown > 2000 ? 2.5 : 3.5;
    for (var k = 0; k < R.shown; k++) {
      var isOff = offMask && bit(offMask, k), isUnmet = bit(unmet, k);
      if (!isOff && !isUnmet) continue;
      group.addLayer(L.circleMarker([xy[2 * k + 1] / 1e6, xy[2 * k] / 1e6], {
        renderer: residentCanvas, interactive: false, radius: small, stroke: false,
        fillColor: isOff ? OFF : UNMET, fillOpacity: 0.85
      }));
    }
    made[key] = group;
    return group;
  }
  function areaLayer(i) {
    var key = "area" + i;
    if (made[key]) return made[key];
    var t = THEMES[i];
    var layer = L.geoJSON(D.areas[String(i)], {
      style: { pane: "areas", color: AREA, weight: 1, fillColor: AREA, fillOpacity: 0.18 }
    });
    layer.bindPopup(function (l) {
      var p = l.feature.properties, label = esc(t.label);
      if (p.min !== null && p.min !== undefined) {
        label += esc(say("web_paren", { text: say("minutes", { value: p.min }) }));
      }
      var head = kv(say("web_area"), label);
      return '<div class="head">' + head + "</div>" + ruleHtml(i);
    }, popupOptions());
    made[key] = layer;
    return layer;
  }
  function facilityLayer(type) {
    var key = "fac:" + type;
    if (made[key]) return made[key];
    var f = M.facilities[type], group = L.layerGroup(), off = {};
    f.off.forEach(function (k) { off[k] = true; });
    for (var k = 0; k < f.names.length; k++) {
      var marker = L.circleMarker([f.xy[2 * k + 1] / 1e6, f.xy[2 * k] / 1e6], {
        pane: "facilities", radius: 5, color: off[k] ? f.colour : "#ffffff", weight: off[k] ? 2 : 1.2,
        fillColor: f.colour, fillOpacity: off[k] ? 0 : 1
      });
      marker.bindTooltip(esc(f.name) + (f.names[k] ? ": " + esc(f.names[k]) : ""), { direction: "top" });
      group.addLayer(marker);
    }
    made[key] = group;
    return group;
  }
  function popupOptions() {  // popups pan clear of the title and the layer list
    var top = title.getContainer().offsetHeight + 20, right = layers.getContainer().offsetWidth + 20;
    return { maxWidth: 420, autoPanPaddingTopLeft: [20, top], autoPanPaddingBottomRight: [right, 20] };
  }
  function show(layer, on) {
    if (on) { if (!map.hasLayer(layer)) map.addLayer(layer); } else if (map.hasLayer(layer)) map.removeLayer(layer);
  }

  // --- the layer control: grouped per circle ------------------------------------------------
  var Layers = L.Control.extend({
    options: { position: "topright" },
    onAdd: function () {
      var div = L.DomUtil.create("div", "leaflet-control-layers leaflet-control-layers-expanded circles-layers");
      var html = '<div class="ctl-head">' + esc(say("web_layers")) + "</div>";
      var shading = !!D.communities;  // without community polygons there is nothing to shade
      if (shading) {
        html += '<label class="none"><input type="radio" name="theme" value="-1"> ' + esc(say("web_no_shading")) + "</label>";
      }
      M.circles.forEach(function (c, n) {
        var whole = THEMES[c.themes[0]];
        html += "<details" + (n === 0 ? " open" : "") + "><summary>" + esc(c.name) +
          ' <span class="pct" style="background:' + colour(whole.coverage) + '">' + esc(pct(whole.coverage)) + "</span></summary>";
        var areas = c.themes.some(function (i) { return THEMES[i].area; });
        html += "<table><tr><th></th>" + (shading ? "<th>" + esc(say("web_coverage")) + "</th>" : "") + "<th>" + esc(say("web_not_met")) +
          "</th>" + (areas ? "<th>" + esc(say("web_area_short")) + "</th>" : "") + "</tr>";
        c.themes.forEach(function (i) {
          var t = THEMES[i], label = esc(t.label) + (t.threshold ? ' <span class="thr">' + esc(t.threshold) + "</span>" : "");
          // the name selects the theme's shading (or, without communities, its residents not met)
          var named = shading ? "theme" + i : "unmet" + i;
          html += '<tr><td><label for="' + named + '">' + label + "</label></td>" +
            (shading ? '<td><input type="radio" name="theme" id="theme' + i + '" value="' + i + '"></td>' : "") +
            '<td><input type="checkbox" id="unmet' + i + '" data-unmet="' + i + '"></td>' +
            (areas ? "<td>" + (t.area ? '<input type="checkbox" data-area="' + i + '">' : "") + "</td>" : "") + "</tr>";
        });
        html += "</table>";
        if (c.types.length) {
          html += '<div class="facs">' + esc(say("web_facilities"));
          c.types.forEach(function (type) {
            var f = M.facilities[type];
            html += '<label><input type="checkbox" data-fac="' + esc(type) + '"> <span class="dot" style="background:' +
              f.colour + '"></span>' + esc(f.name) + " (" + f.names.length + ")</label>";
          });
          html += "</div>";
        }
        html += "</details>";
      });
      div.innerHTML = html;
      L.DomEvent.disableClickPropagation(div);
      L.DomEvent.disableScrollPropagation(div);
      var checked = div.querySelector('input[name="theme"][value="' + theme + '"]');
      if (checked) checked.checked = true;
      this._div = div;
      div.addEventListener("change", function (e) {
        var input = e.target;
        if (input.name === "theme") {
          theme = parseInt(input.value, 10);
          if (communities) communities.setStyle(communityStyle);
          legend.update();
        } else if (input.dataset.unmet !== undefined) {
          show(residentsLayer(parseInt(input.dataset.unmet, 10)), input.checked);
          legend.update();
        } else if (input.dataset.area !== undefined) {
          show(areaLayer(parseInt(input.dataset.area, 10)), input.checked);
          legend.update();
        } else if (input.dataset.fac !== undefined) {
          var type = input.dataset.fac;
          div.querySelectorAll('input[data-fac="' + type + '"]').forEach(function (other) { other.checked = input.checked; });
          show(facilityLayer(type), input.checked);
          legend.update();
        }
      });
      return div;
    }
  });

  // --- title and legend ------------------------------------------------------------------------
  var Title = L.Control.extend({
    options: { position: "topleft" },
    onAdd: function () {
      var div = L.DomUtil.create("div", "circles-title");
      div.innerHTML = "<h1>" + esc(M.title) + "</h1><div>" + esc(M.subtitle) + "</div>" +
        (D.communities ? '<div class="hint">' + esc(say("web_hint")) + "</div>" : "");
      return div;
    }
  });
  var Legend = L.Control.extend({
    options: { position: "bottomleft" },
    onAdd: function () {
      this._div = L.DomUtil.create("div", "circles-legend");
      L.DomEvent.disableScrollPropagation(this._div);
      this.update();
      return this._div;
    },
    update: function () {
      if (!this._div) return;
      var out = "";
      if (theme >= 0 && communities) {
        var t = THEMES[theme];
        out += '<div class="lg-head">' + esc(say("web_coverage_of")) + "</div><div>" + esc(t.circle_name) +
          (t.req ? " — " + esc(t.label) : "") + (t.threshold ? " (" + esc(t.threshold) + ")" : "") + "</div>";
        out += '<div class="ramp" style="background:linear-gradient(to right,' + M.colours.filter(function (_, k) {
          return k % 10 === 0;
        }).join(",") + ')"></div><div class="ticks"><span>0</span><span>50</span><span>100 %</span></div>';
        out += '<div><span class="sw" style="background:' + NO_DATA + '"></span>' + esc(say("map_empty")) + "</div>";
      }
      var unmetOn = [], offOn = false;
      THEMES.forEach(function (t, i) {
        if (made["unmet" + i] && map.hasLayer(made["unmet" + i])) {
          unmetOn.push(t.req ? t.circle_name + " — " + t.label : t.circle_name);
          if (R.theme_off[i] !== null && R.off_counts[R.theme_off[i]] > 0) offOn = true;
        }
      });
      if (unmetOn.length) {
        out += '<div><span class="pt" style="background:' + UNMET + '"></span>' +
          esc(say("web_unmet", { what: unmetOn.join(W.list_join) })) + "</div>";
      }
      if (offOn) out += '<div><span class="pt" style="background:' + OFF + '"></span>' + esc(say("web_off")) + "</div>";
      if (unmetOn.length && R.shown < R.total) {
        out += '<div class="note">' + esc(say("web_sampled", { shown: num(R.shown), total: num(R.total) })) + "</div>";
      }
      var areaOn = THEMES.some(function (_, i) { return made["area" + i] && map.hasLayer(made["area" + i]); });
      if (areaOn) out += '<div><span class="sw" style="background:rgba(43,108,176,.3);border-color:' + AREA + '"></span>' + esc(say("web_area_legend")) + "</div>";
      Object.keys(M.facilities).forEach(function (type) {
        var f = M.facilities[type];
        if (made["fac:" + type] && map.hasLayer(made["fac:" + type])) {
          out += '<div><span class="pt" style="background:' + f.colour + '"></span>' + esc(f.name) + "</div>";
        }
      });
      if (Object.keys(M.facilities).some(function (type) {
        return M.facilities[type].off.length && made["fac:" + type] && map.hasLayer(made["fac:" + type]);
      })) {
        out += '<div class="note">' + esc(say("web_facility_off")) + "</div>";
      }
      this._div.innerHTML = out;
      this._div.style.display = out ? "" : "none";
    }
  });

  var title = new Title().addTo(map);
  L.control.zoom({ position: "topleft" }).addTo(map);
  L.control.scale({ imperial: false, maxWidth: 160, position: "bottomleft" }).addTo(map);
  var layers = new Layers().addTo(map);
  var legend = new Legend().addTo(map);
  if (communities) communities.bindPopup(communityPopup, popupOptions());
  if (!D.communities && THEMES.length) {  // nothing to shade: the first circle's residents not met
    var first = layers._div.querySelector('input[data-unmet="' + M.circles[0].themes[0] + '"]');
    first.checked = true;
    show(residentsLayer(M.circles[0].themes[0]), true);
    legend.update();
  }
  if (M.bounds) {
    // the study area beside the panels: right of nothing, below the title, left of the layers
    var size = map.getSize(), right = layers.getContainer().offsetWidth + 20;
    var top = title.getContainer().offsetHeight + 20, bottom = legend.getContainer().offsetHeight + 40;
    if (size.x - right < 300) right = 20;
    if (size.y - top - bottom < 250) { top = 20; bottom = 20; }
    map.fitBounds(M.bounds, { paddingTopLeft: [20, top], paddingBottomRight: [right, bottom] });
  } else {
    map.setView([30.58, 114.3], 12);
  }
  window.circlesMap = map;
})();
