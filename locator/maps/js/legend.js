// locator.maps: a static legend control (elements._Legend); html is our own text only.
function locatorAddLegend(map, html) {
    var legend = L.control({position: "bottomright"});
    legend.onAdd = function() {
        var div = L.DomUtil.create("div", "locator-legend");
        div.innerHTML = html;
        return div;
    };
    legend.addTo(map);
}
