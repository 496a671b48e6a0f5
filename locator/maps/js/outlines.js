// locator.maps: the offline base layer (outlines._Outlines): province and prefecture
// outlines in their own pane between the tiles and every overlay, drawn as SVG.
// Without a tile layer they are shown at once; with one, only when a tile fails to
// load (no network, an intranet that blocks the tile server), so they never clutter a
// working basemap. data: a FeatureCollection, features with properties.level =
// "province" | "prefecture", already in the datum of the tiles.
function locatorOutlines(map, tiles, data) {
    var pane = map.getPane("locatorOutlines") || map.createPane("locatorOutlines");
    pane.style.zIndex = 250;
    pane.style.pointerEvents = "none";
    var styles = {
        province: {color: "#5f6b7a", weight: 1.4, opacity: 0.9},
        prefecture: {color: "#9aa5b1", weight: 0.7, opacity: 0.8, dashArray: "3 3"}
    };
    var layer = L.geoJSON(data, {
        pane: "locatorOutlines",
        renderer: L.svg({pane: "locatorOutlines"}),
        interactive: false,
        style: function(f) { return styles[f.properties.level] || styles.prefecture; }
    });
    var container = map.getContainer();
    function show() {
        if (!map.hasLayer(layer)) {
            layer.addTo(map);
            container.setAttribute("data-locator-outlines", "shown");
        }
    }
    if (!tiles) { show(); return layer; }
    container.setAttribute("data-locator-outlines", "standby");
    tiles.once("tileerror", show);
    return layer;
}
