// locator.maps: many Leaflet circle markers from one compact JSON array
// (elements._FastCircles: coverage gaps, listed cities). rows: [[lat, lon, radius_px,
// style_index, tooltip_html], ...], every string already escaped on the Python side;
// styles: Leaflet path options shared by many rows; className: the paths' CSS class.
function locatorCircleRows(parent, rows, styles, className) {
    for (var i = 0; i < rows.length; i++) {
        var r = rows[i];
        var options = {radius: r[2], className: className};
        var style = styles[r[3]];
        for (var key in style) {
            if (Object.prototype.hasOwnProperty.call(style, key)) { options[key] = style[key]; }
        }
        var c = L.circleMarker([r[0], r[1]], options);
        if (r[4]) { c.bindTooltip(r[4], {sticky: false}); }
        parent.addLayer(c);
    }
}
