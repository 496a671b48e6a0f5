// locator.maps: the search box and result list of an embeddable locator page
// (search._SearchPanel). Everything runs in the page: place names are found in the
// compact name index baked in (locator.name_index), distances are WGS-84 geodesics
// (Vincenty's inverse formula), drive minutes use the page's DriveTimeModel factors,
// open-now comes from precomputed timelines (locator.hours, made at render time) and
// the directions links are built as locator.directions builds them. Outlet strings
// arrive escaped by escape_text in Python (inert HTML, shown literally); the server's
// raw JSON is escaped the same way here (esc); place names go in as textContent. Only when options.api is true and the page was served over http(s) does the
// box ask the server's /v1/nearest?q= (full addresses the index does not know).
// gcj02.js (locatorWgsToGcj) is included before this file.
function locatorFoldLatin(text) {
  var s = String(text).replace(/['\u2019\u2018\u02bc`\u00b4\u02bb]/g, '');
  s = s.normalize('NFKD').replace(/[\u0300-\u036f]/g, '').toLowerCase();
  return (s.match(/[a-z0-9]+/g) || []).join('');
}

function locatorNameIndex(ix) {
  var rows = ix.e, strong = {}, weak = {};
  function add(table, key, i) {
    if (!key) return;
    var list = table[key] || (table[key] = []);
    if (list.indexOf(i) < 0) list.push(i);
  }
  rows.forEach(function(r, i) {
    add(strong, r[0], i);
    if (r[5]) r[5].split('|').forEach(function(k) { add(strong, k, i); });
    if (r[6]) r[6].split('|').forEach(function(k) { add(weak, k, i); });
  });
  function within(i, j) {  // entry i lies in entry j
    for (var p = rows[i][4], n = 0; p >= 0 && n < 4; p = rows[p][4], n++) {
      if (p === j) return true;
    }
    return false;
  }
  var memo = {};
  // key -> {strong: [i...], weak: [i...]}: the entries a name (or compound name) means.
  function resolve(key) {
    if (Object.prototype.hasOwnProperty.call(memo, key)) return memo[key];
    memo[key] = {strong: [], weak: []};  // no recursion loops
    var out = {strong: (strong[key] || []).slice(), weak: (weak[key] || []).slice()};
    for (var cut = 1; cut < key.length; cut++) {
      var head = resolve(key.slice(0, cut)), tail = {
        strong: strong[key.slice(cut)] || [], weak: weak[key.slice(cut)] || []};
      var parents = head.strong.concat(head.weak);
      if (!parents.length) continue;
      ['strong', 'weak'].forEach(function(tier) {
        tail[tier].forEach(function(i) {
          var inside = parents.some(function(j) { return within(i, j); });
          if (inside && out.strong.indexOf(i) < 0) out.strong.push(i);
        });
      });
    }
    out.weak = out.weak.filter(function(i) { return out.strong.indexOf(i) < 0; });
    memo[key] = out;
    return out;
  }
  function keyOf(text) {
    var t = String(text).replace(/\s+/g, '');
    return /[\u3400-\u9fff]/.test(t) ? t : locatorFoldLatin(t);
  }
  function label(i) {
    var parts = [], p = rows[i][4];
    for (var n = 0; p >= 0 && n < 4; p = rows[p][4], n++) parts.unshift(rows[p][0]);
    return parts.join('');
  }
  function byLevel(a, b) { return rows[a][1] - rows[b][1] || a - b; }
  // A query -> {pick: entry index or -1, candidates: [entry index...]}.
  function find(text) {
    var key = keyOf(text);
    if (!key) return {pick: -1, candidates: []};
    var got = resolve(key);
    var best = got.strong.slice().sort(byLevel), also = got.weak.slice().sort(byLevel);
    if (!best.length && !also.length && key.length >= 2) {  // typing: names starting so
      Object.keys(strong).forEach(function(k) {
        if (also.length < 12 && k.lastIndexOf(key, 0) === 0) {
          strong[k].forEach(function(i) { if (also.indexOf(i) < 0) also.push(i); });
        }
      });
      return {pick: -1, candidates: also.slice(0, 12).sort(byLevel)};
    }
    // One strong meaning is picked (the weak ones stay offered: 朝阳 -> 朝阳市, and the
    // 朝阳区s to choose); several strong ones (朝阳区, 鼓楼区) are all offered.
    var pick = best.length === 1 ? best[0] : (!best.length && also.length === 1 ? also[0] : -1);
    return {pick: pick, candidates: best.concat(also).slice(0, 12)};
  }
  function entry(i) {
    var r = rows[i];
    return {name: r[0], level: ix.lv[r[1]], lat: r[2] / 1e4, lon: r[3] / 1e4,
            parent: label(i), pinyin: (r[6] + '|' + r[5]).split('|').filter(function(k) {
              return /^[a-z]/.test(k); })[0] || ''};
  }
  return {find: find, entry: entry};
}

// WGS-84 geodesic distance in km (Vincenty's inverse formula; within a millimetre of
// Karney's for the distances of a locator; falls back to the sphere if it does not
// converge, which only nearly antipodal points cause).
function locatorGeodesicKm(lat1, lon1, lat2, lon2) {
  var a = 6378137.0, f = 1 / 298.257223563, b = a * (1 - f), r = Math.PI / 180;
  var L = (lon2 - lon1) * r;
  var U1 = Math.atan((1 - f) * Math.tan(lat1 * r)), U2 = Math.atan((1 - f) * Math.tan(lat2 * r));
  var sU1 = Math.sin(U1), cU1 = Math.cos(U1), sU2 = Math.sin(U2), cU2 = Math.cos(U2);
  var lam = L, prev, sS, cS, sig, cA2, c2m, n = 0;
  do {
    var sl = Math.sin(lam), cl = Math.cos(lam);
    sS = Math.sqrt(Math.pow(cU2 * sl, 2) + Math.pow(cU1 * sU2 - sU1 * cU2 * cl, 2));
    if (sS === 0) return 0;
    cS = sU1 * sU2 + cU1 * cU2 * cl;
    sig = Math.atan2(sS, cS);
    var sA = cU1 * cU2 * sl / sS;
    cA2 = 1 - sA * sA;
    c2m = cA2 !== 0 ? cS - 2 * sU1 * sU2 / cA2 : 0;
    var C = f / 16 * cA2 * (4 + f * (4 - 3 * cA2));
    prev = lam;
    lam = L + (1 - C) * f * sA * (sig + C * sS * (c2m + C * cS * (-1 + 2 * c2m * c2m)));
  } while (Math.abs(lam - prev) > 1e-12 && ++n < 200);
  if (n >= 200) {
    var h = Math.pow(Math.sin((lat2 - lat1) * r / 2), 2) + Math.cos(lat1 * r) *
        Math.cos(lat2 * r) * Math.pow(Math.sin(L / 2), 2);
    return 2 * 6371.0088 * Math.asin(Math.min(1, Math.sqrt(h)));
  }
  var u2 = cA2 * (a * a - b * b) / (b * b);
  var A = 1 + u2 / 16384 * (4096 + u2 * (-768 + u2 * (320 - 175 * u2)));
  var B = u2 / 1024 * (256 + u2 * (-128 + u2 * (74 - 47 * u2)));
  var dS = B * sS * (c2m + B / 4 * (cS * (-1 + 2 * c2m * c2m) -
      B / 6 * c2m * (-3 + 4 * sS * sS) * (-3 + 4 * c2m * c2m)));
  return b * A * (sig - dS) / 1000;
}

// locator.drive.DriveTimeModel.minutes, with the model's factors.
function locatorDriveMinutes(km, m) {
  var road = km * m.circuity, urban = Math.min(road, m.urban_km);
  var rest = Math.max(road - m.urban_km, 0);
  return m.overhead_minutes + 60 * (urban / m.urban_kmh + rest / m.highway_kmh);
}

// locator.crs.gcj02_to_bd09 -> [lat, lon].
function locatorGcjToBd(lat, lon) {
  var X = Math.PI * 3000.0 / 180.0;
  var z = Math.sqrt(lon * lon + lat * lat) + 0.00002 * Math.sin(lat * X);
  var t = Math.atan2(lat, lon) + 0.000003 * Math.cos(lon * X);
  return [z * Math.sin(t) + 0.006, z * Math.cos(t) + 0.0065];
}

// locator.directions.directions_links(to, origin=, to_name=, origin_name=) in the page.
function locatorDirections(to, origin, toName, originName) {
  function q(s) {
    var out = '';
    for (var ch of String(s || '')) {
      var c = ch.charCodeAt(0);
      out += (ch.length === 1 && c >= 0xd800 && c <= 0xdfff) ? '%3F' : encodeURIComponent(ch);
    }
    return out.replace(/[!'()*]/g, function(c) {
      return '%' + c.charCodeAt(0).toString(16).toUpperCase(); });
  }
  function x(v) { return v.toFixed(6); }
  var g = locatorWgsToGcj(to[0], to[1]), bd = locatorGcjToBd(g[0], g[1]);
  var dest = q(toName), src = q(originName || '\u8d77\u70b9');
  var amap = 'https://uri.amap.com/navigation?', baidu, from = '';
  if (origin) {
    var og = locatorWgsToGcj(origin[0], origin[1]), ob = locatorGcjToBd(og[0], og[1]);
    amap += 'from=' + x(og[1]) + ',' + x(og[0]) + ',' + src + '&';
    baidu = 'https://api.map.baidu.com/direction?origin=latlng:' + x(ob[0]) + ',' + x(ob[1]) +
        '%7Cname:' + src + '&destination=latlng:' + x(bd[0]) + ',' + x(bd[1]) + '%7Cname:' +
        dest + '&mode=driving&coord_type=bd09ll&output=html&src=webapp.locator';
    from = x(origin[0]) + ',' + x(origin[1]);
  } else {
    baidu = 'https://api.map.baidu.com/marker?location=' + x(bd[0]) + ',' + x(bd[1]) +
        '&title=' + dest + '&content=' + dest + '&output=html&coord_type=bd09ll' +
        '&src=webapp.locator';
  }
  amap += 'to=' + x(g[1]) + ',' + x(g[0]) + ',' + dest +
      '&mode=car&coordinate=gaode&callnative=0&src=locator';
  var osm = 'https://www.openstreetmap.org/directions?engine=fossgis_osrm_car&route=' +
      from + '%3B' + x(to[0]) + ',' + x(to[1]);
  return {amap: amap, baidu: baidu, osm: osm};
}

// The open-now label of a timeline [[start_epoch_s, label], ...] (locator.hours labels,
// one per stretch between changes and midnights) at epoch second `now`; null outside it.
function locatorHoursLabel(timeline, now) {
  var got = null;
  for (var i = 0; i < timeline.length - 1; i++) {
    if (timeline[i][0] <= now && now < timeline[i + 1][0]) got = timeline[i][1];
  }
  return got;
}

function locatorSearchPanel(map, data, o) {
  var names = locatorNameIndex(data.index), t = o.text;
  var layer = L.featureGroup().addTo(map);
  function el(tag, cls, text, parent) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    if (parent) parent.appendChild(e);
    return e;
  }
  var panel = el('div', 'locator-search');
  panel.setAttribute('role', 'search');
  var form = el('form', 'locator-search-form', null, panel);
  var box = el('input', 'locator-search-input', null, form);
  box.type = 'search'; box.placeholder = t.placeholder; box.setAttribute('aria-label', t.placeholder);
  box.autocomplete = 'off';
  var me = el('button', 'locator-search-me', t.me, form);
  me.type = 'button';
  var status = el('div', 'locator-search-status', t.hint, panel);
  status.setAttribute('aria-live', 'polite');
  var picks = el('div', 'locator-search-candidates', null, panel);
  var list = el('ol', 'locator-search-results', null, panel);
  el('div', 'locator-search-note', t.note, panel);
  var banner = document.querySelector('body > .locator-note');  // "sample data": not over the box
  if (banner) panel.appendChild(banner);
  var container = map.getContainer();
  container.parentNode.insertBefore(panel, container);
  document.body.classList.add('locator-has-search');
  map.invalidateSize();

  var markers = [];
  function clear() { layer.clearLayers(); markers = []; list.textContent = ''; }
  function drawn(lat, lon) { return o.gcj ? locatorWgsToGcj(lat, lon) : [lat, lon]; }
  function link(parent, href, text) {  // text: escaped (a phone as written) or ours
    if (!/^(https:\/\/|tel:)/.test(href)) return;
    var a = html('a', null, text, parent);
    a.href = href; a.target = '_blank'; a.rel = 'noopener noreferrer';
  }
  function fmtDrive(min) {
    if (min < 60) return t.about + ' ' + Math.round(min) + ' ' + t.min;
    var h = Math.floor(min / 60), m = Math.round(min - 60 * h);
    return t.about + ' ' + h + ' h ' + m + ' ' + t.min;
  }
  function html(tag, cls, text, parent) {  // text: escaped in Python (escape_text)
    var e = el(tag, cls, null, parent);
    e.innerHTML = text;
    return e;
  }
  function card(r, parent) {  // r: escaped strings {name, kind, address, open, tels}
    html('div', 'locator-result-name', r.name, parent);
    var meta = html('div', 'locator-result-meta', r.kind, parent);
    meta.appendChild(document.createTextNode(' \u00b7 ' + r.km.toFixed(1) + ' km \u00b7 ' +
        fmtDrive(r.minutes)));
    if (r.open) html('div', 'locator-result-open', r.open, parent);
    if (r.address) html('div', 'locator-result-address', r.address, parent);
    var links = el('div', 'locator-result-links', null, parent);
    r.tels.forEach(function(p) { link(links, p[1], p[0]); });
    link(links, r.links.amap, t.amap); link(links, r.links.baidu, t.baidu);
    link(links, r.links.osm, t.osm);
  }
  function raw(text) {  // escaped text -> the original characters (RCDATA: inert)
    var d = document.createElement('textarea');
    d.innerHTML = text;
    return d.value;
  }
  function esc(text) {  // for the server's raw JSON, like escape_text
    return String(text === null || text === undefined ? '' : text).replace(
        /[&<>"'`$\\{}]/g, function(c) { return '&#' + c.charCodeAt(0) + ';'; });
  }
  function show(origin, originName, results, keepView) {
    clear();
    var here = drawn(origin[0], origin[1]);
    layer.addLayer(L.circleMarker(here, {radius: 7, color: '#d81b60', fillOpacity: 0.9,
        className: 'locator-search-origin'}));
    var pts = [here];
    results.forEach(function(r, n) {
      var li = el('li', 'locator-result', null, list);
      li.tabIndex = 0;
      var pop = document.createElement('div');
      pop.className = 'locator-popup';
      card(r, pop);
      var mk = L.marker(r.drawn, {icon: L.divIcon({html: String(n + 1), iconSize: [22, 22],
          className: 'locator-marker locator-search-hit'})}).bindPopup(pop);
      layer.addLayer(mk);
      markers.push(mk);
      card(r, li);
      function open(e) {
        if (e && e.target && e.target.tagName === 'A') return;
        map.setView(r.drawn, Math.max(map.getZoom(), 13));
        mk.openPopup();
        [].forEach.call(list.children, function(c) { c.classList.remove('active'); });
        li.classList.add('active');
      }
      li.addEventListener('click', open);
      li.addEventListener('keydown', function(e) { if (e.key === 'Enter') open(e); });
      mk.on('click', function() {
        [].forEach.call(list.children, function(c) { c.classList.remove('active'); });
        li.classList.add('active');
        if (li.scrollIntoView) li.scrollIntoView({block: 'nearest'});
      });
      pts.push(r.drawn);
    });
    status.textContent = results.length ? t.nearestTo + ' ' + originName : t.none;
    listed = results.length > 0;
    if (keepView) return;
    if (pts.length > 1) map.fitBounds(L.latLngBounds(pts), {padding: [30, 30], maxZoom: 13});
    else map.setView(here, 11);
  }
  function nearest(lat, lon, originName, keepView) {
    var now = Date.now() / 1000;
    var rows = data.outlets.map(function(r) {
      return [locatorGeodesicKm(lat, lon, r.lat, r.lon), r]; });
    rows.sort(function(a, b) { return a[0] - b[0]; });
    var out = rows.slice(0, o.k).map(function(x) {
      var r = x[1], tl = r.hours >= 0 ? data.hours[r.hours] : null;
      var open = tl ? locatorHoursLabel(tl, now) : t.unknown;
      if (open === null) open = r.hours_text ? esc(t.hoursAre) + ' ' + r.hours_text : t.unknown;
      return {name: r.name, kind: r.kind, address: r.address, km: x[0],
              minutes: locatorDriveMinutes(x[0], data.drive), open: open, tels: r.tels,
              links: locatorDirections([r.lat, r.lon], [lat, lon], raw(r.name), originName),
              drawn: [r.dlat, r.dlon]};
    });
    show([lat, lon], originName, out, keepView);
  }
  // The user drags the map once a list is shown: the list follows the map's centre.
  var listed = false;
  map.on('dragend', function() {
    if (!listed) return;
    var c = map.getCenter(), lat = c.lat, lon = c.lng;
    if (o.gcj) {  // the centre is GCJ-02: back to WGS-84 (two fixed-point steps)
      for (var n = 0; n < 2; n++) {
        var g = locatorWgsToGcj(lat, lon);
        lat += c.lat - g[0]; lon += c.lng - g[1];
      }
    }
    nearest(lat, lon, t.centre, true);
  });
  function choose(i) {
    var e = names.entry(i);
    picks.textContent = '';
    nearest(e.lat, e.lon, e.parent + e.name);
  }
  function candidates(found) {
    picks.textContent = '';
    if (found.candidates.length < 2 && found.pick >= 0) return;
    found.candidates.forEach(function(i) {
      var e = names.entry(i), b = el('button', 'locator-search-candidate', null, picks);
      b.type = 'button';
      el('span', null, e.parent + e.name, b);
      if (e.pinyin) el('small', null, ' ' + e.pinyin, b);
      b.addEventListener('click', function() { choose(i); });
    });
  }
  function api() {
    return o.api && /^https?:$/.test(window.location.protocol);
  }
  function ask(text) {  // only when served by `locator serve` (see api())
    status.textContent = '\u2026';
    fetch('/v1/nearest?k=' + o.k + '&q=' + encodeURIComponent(text), {credentials: 'omit'})
      .then(function(r) { return r.ok ? r.json() : Promise.reject(r.status); })
      .then(function(j) {
        var origin = [j.origin.lat, j.origin.lon];
        show(origin, text, (j.results || []).map(function(r) {
          return {name: esc(r.name), kind: esc(data.kinds[r.kind] || r.kind),
                  address: esc(r.address), km: r.distance_km, minutes: r.drive_minutes,
                  open: esc(r.hours_label),
                  tels: (r.tel || []).map(function(h) { return [esc(h.slice(4)), h]; }),
                  links: r.directions || {}, drawn: drawn(r.lat, r.lon)};
        }));
      })
      .catch(function() { status.textContent = t.notFound; });
  }
  var timer = null, last = null;
  function run(submit) {
    var text = box.value.trim();
    clearTimeout(timer);
    if (!submit && text === last) return;  // typed back to what is shown: keep the list
    last = text;
    if (!text) { status.textContent = t.hint; picks.textContent = ''; return; }
    var found = names.find(text);
    candidates(found);
    if (found.pick >= 0) { choose(found.pick); return; }
    clear();
    if (found.candidates.length) { status.textContent = t.choose; return; }
    if (submit && api()) { ask(text); return; }
    status.textContent = api() ? t.pressEnter : t.notFound;
  }
  box.addEventListener('input', function() {
    clearTimeout(timer); timer = setTimeout(function() { run(false); }, 250);
  });
  form.addEventListener('submit', function(e) { e.preventDefault(); run(true); });
  me.addEventListener('click', function() {
    if (!navigator.geolocation) { status.textContent = t.denied; return; }
    status.textContent = '\u2026';
    navigator.geolocation.getCurrentPosition(
      function(p) { picks.textContent = ''; nearest(p.coords.latitude, p.coords.longitude, t.here); },
      function() { status.textContent = t.denied; },
      {enableHighAccuracy: false, timeout: 10000, maximumAge: 60000});
  });
  return {search: function(text) { box.value = text; run(true); }, nearest: nearest};
}
