// locator.maps: fit the bounds again once the map's container gets a real size
// (elements._RefitWhenShown). A map rendered while hidden has a 0x0 container, so
// Leaflet's fitBounds lands at the minimum zoom; a ResizeObserver re-fits when the
// container is resized, until the user moves or zooms the map (then their view wins).
// options: {bounds: [[south, west], [north, east]], padding: px, maxZoom: zoom}.
function locatorRefitOnResize(map, options) {
    var el = map.getContainer();
    var touched = false;
    ["mousedown", "touchstart", "wheel", "keydown"].forEach(function(ev) {
        el.addEventListener(ev, function() { touched = true; }, {passive: true});
    });
    if (typeof ResizeObserver === "undefined") { return; }
    var last = "";
    new ResizeObserver(function() {
        var size = el.clientWidth + "x" + el.clientHeight;
        if (touched || size === last || el.clientWidth === 0) { return; }
        last = size;
        map.invalidateSize();
        map.fitBounds(options.bounds, {padding: [options.padding, options.padding],
                                       maxZoom: options.maxZoom});
    }).observe(el);
}
