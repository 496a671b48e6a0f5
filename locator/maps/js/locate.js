// locator.maps: a "nearest to me" button (elements._LocateControl). Browser position ->
// the k nearest outlets, entirely in the page. Distances are great-circle (haversine on
// a sphere) and labelled as straight-line estimates. With options.gcj the position is
// converted with locatorWgsToGcj (gcj02.js, included before this file) before drawing.
// rows: [[lat, lon, drawn_lat, drawn_lon, name_html], ...] (names escaped in Python);
// options: {gcj, k, heading, note, label, unavailable} (our own text, never data).
function locatorNearestButton(map, rows, options) {
    var gcj = options.gcj, k = options.k;
    var layer = L.featureGroup().addTo(map);
    var box = null;
    function hav(a, b, c, d) {
        var r = Math.PI / 180, s1 = Math.sin((c - a) * r / 2);
        var s2 = Math.sin((d - b) * r / 2);
        var h = s1 * s1 + Math.cos(a * r) * Math.cos(c * r) * s2 * s2;
        return 2 * 6371.0088 * Math.asin(Math.min(1, Math.sqrt(h)));
    }
    function show(lat, lon) {
        layer.clearLayers();
        var here = gcj ? locatorWgsToGcj(lat, lon) : [lat, lon];
        var me = L.marker(here, {icon: L.divIcon({
            html: '<div class="locator-pin origin"></div>', iconSize: [16, 16],
            iconAnchor: [8, 8], className: 'locator-marker locator-me'})});
        layer.addLayer(me);
        var near = rows.map(function(r) { return [hav(lat, lon, r[0], r[1]), r]; })
            .sort(function(a, b) { return a[0] - b[0]; }).slice(0, k);
        var html = '<b>' + options.heading + '</b><ol>';
        var pts = [here];
        near.forEach(function(n) {
            var r = n[1];
            layer.addLayer(L.polyline([here, [r[2], r[3]]], {color: '#d81b60',
                weight: 2, dashArray: '6 4', className: 'locator-line'}));
            html += '<li>' + r[4] + ' · ' + n[0].toFixed(1) + ' km</li>';
            pts.push([r[2], r[3]]);
        });
        box.innerHTML = html + '</ol><small>' + options.note + '</small>';
        map.fitBounds(L.latLngBounds(pts), {padding: [30, 30], maxZoom: 13});
    }
    var ctl = L.control({position: 'topleft'});
    ctl.onAdd = function() {
        var div = L.DomUtil.create('div', 'leaflet-bar locator-locate');
        var btn = L.DomUtil.create('a', 'locator-locate-btn', div);
        btn.href = '#'; btn.setAttribute('role', 'button');
        btn.title = options.label;
        btn.innerHTML = '&#9678;';
        box = L.DomUtil.create('div', 'locator-nearest', div);
        L.DomEvent.disableClickPropagation(div);
        L.DomEvent.on(btn, 'click', function(e) {
            L.DomEvent.preventDefault(e);
            if (!navigator.geolocation) {
                box.textContent = options.unavailable; return;
            }
            box.textContent = '…';
            navigator.geolocation.getCurrentPosition(
                function(p) { show(p.coords.latitude, p.coords.longitude); },
                function(err) { box.textContent = options.unavailable + ' ' +
                    String(err && err.message || ''); },
                {enableHighAccuracy: false, timeout: 10000, maximumAge: 60000});
        });
        return div;
    };
    ctl.addTo(map);
    return show;
}
