// Draws plan zones and a project site with Leaflet on a blank base (no tiles: nothing leaves the platform).
// The page puts the layers in data-layers; with data-input the map follows a GeoJSON textarea as it is edited.
(function () {
  var box = document.getElementById("plan-map");
  if (!box || !window.L) { return; }
  var COLORS = { ecological_red_line: "#c0392b", permanent_farmland: "#d4a017", forest: "#2e7d32",
                 water_source: "#1e88e5", cultural_relics: "#8e44ad", construction_land: "#9e9e9e" };
  var data = JSON.parse(box.dataset.layers || "{}");
  var map = L.map(box, { attributionControl: false, zoomSnap: 0.25, minZoom: 3, maxZoom: 19 });
  var zones = L.featureGroup().addTo(map);
  var siteLayer = null;
  (data.zones || []).forEach(function (z) {
    var color = COLORS[z.kind] || "#555";
    L.geoJSON(z.geometry, { style: { color: color, weight: z.hit ? 3 : 1, fillColor: color,
                                     fillOpacity: z.kind === "construction_land" ? 0.08 : (z.hit ? 0.45 : 0.25) } })
      .bindTooltip(z.kind_name + "：" + z.name).addTo(zones)
      .eachLayer(function (layer) { layer.getElement && layer.on("add", function () {}); });
  });
  function drawSite(geometry) {
    if (siteLayer) { map.removeLayer(siteLayer); siteLayer = null; }
    if (!geometry) { return; }
    var point = geometry.type === "Point";
    siteLayer = L.geoJSON(geometry, {
      style: { color: "#d81b60", weight: 3, dashArray: "6 4", fillOpacity: 0.12 },
      pointToLayer: function (f, latlng) { return L.circleMarker(latlng, { radius: 8, color: "#d81b60" }); }
    }).bindTooltip(box.dataset.siteLabel || "项目选址").addTo(map);
    box.dataset.site = point ? "point" : "polygon";
  }
  function fit() {
    var bounds = zones.getBounds();
    if (siteLayer) { bounds = bounds.isValid() ? bounds.extend(siteLayer.getBounds()) : siteLayer.getBounds(); }
    if (bounds.isValid()) { map.fitBounds(bounds.pad(0.08)); } else { map.setView([20.02, 110.33], 11); }
  }
  drawSite(data.site);
  fit();
  box.dataset.zones = String(zones.getLayers().length);
  box.dataset.ready = "1";
  var input = box.dataset.input && document.getElementById(box.dataset.input);
  if (input) {
    var show = function () {
      try {
        var value = JSON.parse(input.value);
        drawSite(value.type === "Feature" ? value.geometry : value);
        box.dataset.valid = "1";
        fit();
      } catch (e) { box.dataset.valid = "0"; }
    };
    input.addEventListener("input", show);
    if (input.value.trim()) { show(); }
  }
})();
