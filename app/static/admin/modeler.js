/* The BPMN modeler page: bpmn-js with the stock properties panel and our platform panel. */
(function () {
  'use strict';

  var T = window.hnT;
  var page = document.getElementById('modeler-page');
  var options = JSON.parse(document.getElementById('editor-options').textContent);
  var status = document.getElementById('status');

  function clearMarkers(modeler) {
    var canvas = modeler.get('canvas');
    modeler.get('overlays').remove({ type: 'lint' });
    modeler.get('elementRegistry').forEach(function (element) { canvas.removeMarker(element.id, 'lint-error'); });
  }

  function markProblems(modeler, problems) {
    var registry = modeler.get('elementRegistry');
    var canvas = modeler.get('canvas');
    var overlays = modeler.get('overlays');
    problems.forEach(function (p) {
      if (!p.element || (p.file && p.file !== page.dataset.file) || !registry.get(p.element)) { return; }
      canvas.addMarker(p.element, 'lint-error');
      var badge = document.createElement('div');
      badge.className = 'lint-badge';
      badge.title = p.message;
      badge.textContent = '!';
      overlays.add(p.element, 'lint', { position: { top: -10, right: 10 }, html: badge });
    });
  }

  function pick(modeler, problem) {
    var element = modeler.get('elementRegistry').get(problem.element);
    if (!element) { return; }
    modeler.get('selection').select(element);
    modeler.get('canvas').scrollToElement(element);
  }

  async function save(modeler) {
    var button = document.getElementById('save');
    button.disabled = true;
    status.className = 'muted';
    status.textContent = T('正在校验并保存…');
    try {
      var xml = await exportXml(modeler);
      var result = await window.hnDeploy.deployFile(page.dataset.deploy, page.dataset.file, xml,
        document.getElementById('comment').value, Number(page.dataset.version));
      clearMarkers(modeler);
      var problems = window.hnDeploy.showResult(result, function (p) { pick(modeler, p); });
      markProblems(modeler, problems);
      page.dataset.lastDeploy = JSON.stringify({ status: result.status, body: result.body });
    } catch (err) {
      status.className = 'error';
      status.textContent = T('保存失败：{reason}', { reason: err.message });
    } finally {
      button.disabled = false;
    }
  }

  var kept = [];

  /** Fit the whole diagram into the canvas, clear of the palette on the left. */
  function fit(modeler) {
    var canvas = modeler.get('canvas');
    canvas.resized();
    var box = canvas.viewbox();
    var inner = box.inner, outer = box.outer;
    if (!inner.width || !inner.height || !outer.width || !outer.height) { return; }
    var palette = page.querySelector('.djs-palette');
    var left = (palette ? palette.getBoundingClientRect().right - page.querySelector('#canvas').getBoundingClientRect().left : 0) + 16;
    var margin = 16;
    var scale = Math.min((outer.width - left - margin) / inner.width, (outer.height - 2 * margin) / inner.height, 1.2);
    canvas.viewbox({ x: inner.x - left / scale, y: inner.y - (outer.height / scale - inner.height) / 2,
                     width: outer.width / scale, height: outer.height / scale });
  }

  async function exportXml(modeler) {
    var saved = await modeler.saveXML({ format: true });
    return window.hnPreserve.restore(saved.xml, kept);
  }

  function download(modeler) {
    exportXml(modeler).then(function (xml) {
      var link = document.createElement('a');
      link.href = URL.createObjectURL(new Blob([xml], { type: 'application/xml' }));
      link.download = page.dataset.file.split('/').pop();
      link.click();
      URL.revokeObjectURL(link.href);
    });
  }

  async function start() {
    var descriptor = await (await fetch(page.dataset.moddle)).json();
    var panel = window.BpmnJSPropertiesPanel;
    var modeler = new window.BpmnJS({
      container: '#canvas',
      keyboard: { bindTo: document },
      propertiesPanel: { parent: '#properties' },
      additionalModules: panel ? [panel.BpmnPropertiesPanelModule, panel.BpmnPropertiesProviderModule] : [],
      moddleExtensions: { spiffworkflow: descriptor }
    });
    window.hnModeler = modeler;
    var response = await fetch(page.dataset.source, { credentials: 'same-origin' });
    if (!response.ok) { throw new Error(T('无法读取文件（{status}）', { status: response.status })); }
    var source = await response.text();
    kept = window.hnPreserve.dangling(source);
    var result = await modeler.importXML(source);
    var warnings = result.warnings.filter(function (w) { return !window.hnPreserve.expectedWarning(w, kept); });
    fit(modeler);
    document.getElementById('fit').addEventListener('click', function () { fit(modeler); });
    window.addEventListener('resize', function () { modeler.get('canvas').resized(); });
    window.hnPlatformPanel.attach(modeler, document.getElementById('platform-panel'), options);
    document.getElementById('save').disabled = false;
    document.getElementById('download').disabled = false;
    document.getElementById('save').addEventListener('click', function () { save(modeler); });
    document.getElementById('download').addEventListener('click', function () { download(modeler); });
    status.className = warnings.length ? 'error' : 'muted';
    status.textContent = warnings.length
      ? T('已加载，但有 {count} 条导入警告：{first}', { count: warnings.length, first: warnings[0].message })
      : T('已加载。修改后点击“保存草稿”：系统先校验，通过后保存为草稿版本，核对后再启用。');
    page.dataset.ready = 'true';
  }

  start().catch(function (err) {
    status.className = 'error';
    status.textContent = T('建模器无法启动：{reason}', { reason: err.message });
    page.dataset.ready = 'error';
  });
})();
