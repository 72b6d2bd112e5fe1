// Shows a stage's BPMN diagram in the bpmn-js NavigatedViewer, marks done / active elements,
// and offers zoom in, zoom out and fit.  The server names the lanes by department.
(function () {
  var box = document.getElementById("diagram");
  if (!box || !window.BpmnJS) { return; }
  var viewer = new window.BpmnJS({ container: box });
  function get(url, kind) {
    return fetch(url, { credentials: "same-origin" }).then(function (r) {
      if (!r.ok) { throw new Error(r.status); }
      return kind === "json" ? r.json() : r.text();
    });
  }
  function fit() {
    var canvas = viewer.get("canvas");
    canvas.resized();
    canvas.zoom("fit-viewport", "auto");
  }
  function zoom(step) {
    var canvas = viewer.get("canvas");
    canvas.zoom(Math.max(0.1, Math.min(4, canvas.zoom() * step)));
  }
  document.querySelectorAll("[data-zoom]").forEach(function (button) {
    button.addEventListener("click", function () {
      var how = button.dataset.zoom;
      if (how === "fit") { fit(); } else { zoom(how === "in" ? 1.25 : 0.8); }
      box.dataset.zoom = viewer.get("canvas").zoom().toFixed(3);
    });
  });
  window.addEventListener("resize", function () { viewer.get("canvas").resized(); });
  Promise.all([get(box.dataset.url, "text"), get(box.dataset.marks, "json")])
    .then(function (both) {
      return viewer.importXML(both[0]).then(function () { return both[1]; });
    })
    .then(function (marks) {
      var canvas = viewer.get("canvas");
      var registry = viewer.get("elementRegistry");
      function mark(ids, css) {
        (ids || []).forEach(function (id) { if (registry.get(id)) { canvas.addMarker(id, css); } });
      }
      mark(marks.done, "done");
      mark(marks.active, "active");
      fit();
      window.hnViewer = viewer;
      box.dataset.zoom = canvas.zoom().toFixed(3);
      box.dataset.ready = "1";
    })
    .catch(function (err) { box.textContent = (box.dataset.failed || "") + err; box.dataset.ready = "error"; });
})();
