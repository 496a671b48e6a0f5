// locator.maps: many CSS markers from one compact JSON array (elements._FastMarkers).
// rows: [[lat, lon, css_classes, size_px, tooltip_html, popup_html], ...], every string
// already escaped on the Python side; className: the marker's CSS classes.
function locatorMarkerRows(parent, rows, className) {
    var made = [];
    for (var i = 0; i < rows.length; i++) {
        var r = rows[i];
        var icon = L.divIcon({
            html: '<div class="locator-pin ' + r[2] + '"></div>',
            iconSize: [r[3], r[3]],
            iconAnchor: [r[3] / 2, r[3] / 2],
            className: className
        });
        var m = L.marker([r[0], r[1]], {icon: icon});
        m.bindTooltip(r[4]);
        if (r[5]) { m.bindPopup(r[5], {maxWidth: 340}); }
        made.push(m);
    }
    if (parent.addLayers) { parent.addLayers(made); }
    else { made.forEach(function(m) { parent.addLayer(m); }); }
}
