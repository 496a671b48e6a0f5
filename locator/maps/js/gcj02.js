// A JavaScript port of locator.crs.wgs84_to_gcj02 (same boxes, same formula), used to
// draw the browser's WGS-84 position on GCJ-02 (AMap) tiles. tests/test_maps.py runs
// it in node against the Python version.
function locatorWgsToGcj(lat, lon) {
  var R = [[79.4462,42.8899,96.33,49.2204],[109.6872,39.3742,135.0002,54.1415],
    [73.1246,29.5297,124.143255,42.8899],[82.9684,26.7186,97.0352,29.5297],
    [97.0253,20.414096,124.367395,29.5297],[107.975793,17.871542,111.744104,20.414096]];
  var X = [[119.921265,21.785006,122.497559,25.398623],[101.8652,20.0988,106.665,22.284],
    [106.4525,20.4878,108.051,21.5422],[109.0323,50.3257,119.127,55.8175],
    [127.4568,49.5574,137.0227,55.8175],[131.2662,42.5692,137.0227,44.8922]];
  function hit(b) {
    for (var i = 0; i < b.length; i++) {
      if (lon >= b[i][0] && lat >= b[i][1] && lon <= b[i][2] && lat <= b[i][3]) return true;
    }
    return false;
  }
  if (!hit(R) || hit(X)) return [lat, lon];
  var A = 6378245.0, EE = 0.00669342162296594323, PI = Math.PI;
  var x = lon - 105.0, y = lat - 35.0, sx = Math.sqrt(Math.abs(x));
  var c = (20.0 * Math.sin(6.0 * x * PI) + 20.0 * Math.sin(2.0 * x * PI)) * 2.0 / 3.0;
  var dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * sx + c;
  dlat += (20.0 * Math.sin(y * PI) + 40.0 * Math.sin(y / 3.0 * PI)) * 2.0 / 3.0;
  dlat += (160.0 * Math.sin(y / 12.0 * PI) + 320.0 * Math.sin(y * PI / 30.0)) * 2.0 / 3.0;
  var dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * sx + c;
  dlon += (20.0 * Math.sin(x * PI) + 40.0 * Math.sin(x / 3.0 * PI)) * 2.0 / 3.0;
  dlon += (150.0 * Math.sin(x / 12.0 * PI) + 300.0 * Math.sin(x / 30.0 * PI)) * 2.0 / 3.0;
  var rad = lat / 180.0 * PI, magic = 1.0 - EE * Math.sin(rad) * Math.sin(rad);
  var sm = Math.sqrt(magic);
  dlat = (dlat * 180.0) / ((A * (1.0 - EE)) / (magic * sm) * PI);
  dlon = (dlon * 180.0) / (A / sm * Math.cos(rad) * PI);
  return [lat + dlat, lon + dlon];
}
