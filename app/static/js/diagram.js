// Shows a stage's BPMN diagram in the bpmn-js NavigatedViewer and marks done / active elements.
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
      canvas.zoom("fit-viewport");
      box.dataset.ready = "1";
    })
    .catch(function (err) { box.textContent = "流程图加载失败：" + err; box.dataset.ready = "error"; });
})();
