// The applicant's stage form and correction page (no inline script: the CSP allows none):
// - uploads go in place (fetch), so nothing typed is lost;
// - the materials checklist and the signable items follow the answers as they are typed
//   (the server runs the stage's decision on demand: POST …/checklist);
// - what is typed is kept as the stage's draft on the server (POST …/draft);
// - after a refused submission the error summary at the top takes the focus.
(function () {
  "use strict";
  var summary = document.getElementById("error-summary");
  if (summary) { summary.scrollIntoView({block: "start"}); summary.focus(); }
  document.addEventListener("click", function (event) {
    var link = event.target.closest("#error-summary a[href^='#']");
    if (!link) { return; }
    var target = document.getElementById(link.getAttribute("href").slice(1));
    if (!target) { return; }
    event.preventDefault();
    target.scrollIntoView({block: "center"});
    var own = target.matches("input,select,textarea,[tabindex]");
    (own ? target : (target.querySelector("input,select,textarea") || target)).focus();
  });

  function json(response) {
    return response.json().then(function (body) { return {ok: response.ok, body: body}; });
  }

  // uploads in place
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches("form.upload[data-inplace]")) { return; }
    event.preventDefault();
    var status = form.querySelector(".upload-status") || document.getElementById("upload-status");
    var button = form.querySelector("button");
    if (button) { button.disabled = true; }
    if (status) { status.textContent = "…"; status.className = "upload-status muted"; }
    fetch(form.action, {method: "POST", body: new FormData(form), credentials: "same-origin",
                        headers: {"Accept": "application/json"}})
      .then(json).then(function (result) {
        if (button) { button.disabled = false; }
        if (!result.ok) {
          var error = result.body.error || {};
          var fields = error.fields || {};
          var text = Object.keys(fields).map(function (k) { return fields[k]; }).join("；") || error.message;
          if (status) { status.textContent = text; status.className = "upload-status error"; }
          return;
        }
        var m = result.body.material;
        if (status) { status.textContent = result.body.message; status.className = "upload-status ok"; }
        var row = form.closest("tr[data-material]");
        if (row) {
          row.dataset.uploaded = "1";
          var cell = row.querySelector(".uploaded");
          cell.textContent = "";
          var badge = document.createElement("span");
          badge.className = "badge approved"; badge.textContent = "✓";
          var link = document.createElement("a");
          link.href = m.url; link.textContent = m.original_name;
          cell.appendChild(badge); cell.appendChild(document.createTextNode(" ")); cell.appendChild(link);
        }
        var list = document.getElementById("uploaded-list");
        if (list) {
          var item = list.querySelector("li[data-material='" + CSS.escape(m.name) + "']") || document.createElement("li");
          item.dataset.material = m.name;
          item.textContent = m.name + "：";
          var file = document.createElement("a");
          file.href = m.url; file.textContent = m.original_name;
          item.appendChild(file);
          if (m.version > 1) { item.appendChild(document.createTextNode("（v" + m.version + "）")); }
          list.appendChild(item);
          // the correction's answer lists what was supplied: add the name once
          var claimed = document.querySelector("#task-form textarea[name=materials]");
          if (claimed && claimed.value.split("\n").map(function (l) { return l.trim(); }).indexOf(m.name) < 0) {
            claimed.value = (claimed.value.trim() ? claimed.value.trim() + "\n" : "") + m.name;
          }
        }
        form.querySelector("input[type=file]").value = "";
      }).catch(function () { if (button) { button.disabled = false; } });
  });

  var stageForm = document.getElementById("stage-form");
  var materials = document.getElementById("materials");
  if (!stageForm) { return; }
  var checklistTimer = null, draftTimer = null, lastSent = null, sequence = 0;
  if (materials) { materials.dataset.pending = "0"; }

  function refreshChecklist() {
    if (!materials || !materials.dataset.checklistUrl) { return; }
    var body = new FormData(stageForm);
    body.delete("action");
    var key = new URLSearchParams(body).toString();
    if (key === lastSent) { materials.dataset.pending = "0"; return; }
    lastSent = key;
    var asked = ++sequence;
    var status = document.getElementById("checklist-status");
    if (status) { status.textContent = status.dataset.updating; }
    fetch(materials.dataset.checklistUrl, {method: "POST", body: body, credentials: "same-origin",
                                            headers: {"Accept": "application/json"}})
      .then(json).then(function (result) {
        if (asked !== sequence) { return; }  // a later answer is on its way
        materials.dataset.pending = "0";
        if (!result.ok) { return; }
        document.getElementById("checklist").innerHTML = result.body.html.materials;
        var box = stageForm.querySelector("[data-commitments]");
        if (box && result.body.html.commitments) { box.outerHTML = result.body.html.commitments; }
        materials.dataset.refreshed = String(Number(materials.dataset.refreshed || 0) + 1);
        if (status) { status.textContent = status.dataset.updated; }
      });
  }

  function saveDraft() {
    var body = new FormData(stageForm);
    body.delete("action");
    fetch(stageForm.dataset.draftUrl, {method: "POST", body: body, credentials: "same-origin",
                                       headers: {"Accept": "application/json"}})
      .then(json).then(function (result) {
        var status = document.getElementById("draft-status");
        if (result.ok && status) {
          status.textContent = status.dataset.saved + " " + new Date(result.body.saved_at).toLocaleTimeString();
          stageForm.dataset.draftSaved = result.body.saved_at;
        }
      });
  }

  function changed() {
    clearTimeout(checklistTimer); clearTimeout(draftTimer);
    if (materials) { materials.dataset.pending = "1"; }  // the checklist will follow these answers
    checklistTimer = setTimeout(refreshChecklist, 400);
    draftTimer = setTimeout(saveDraft, 1200);
  }
  stageForm.addEventListener("input", changed);
  stageForm.addEventListener("change", changed);
})();
