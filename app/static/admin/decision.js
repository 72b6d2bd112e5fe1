/* The DMN page: dmn-js modeler on one decision file, saved through the same deploy endpoint. */
(function () {
  'use strict';

  var T = window.hnT;
  var page = document.getElementById('decision-page');
  var status = document.getElementById('status');

  function showViews(editor) {
    var bar = document.getElementById('views');
    bar.textContent = '';
    editor.getViews().forEach(function (view) {
      var button = document.createElement('button');
      button.type = 'button';
      button.className = 'link';
      button.textContent = (view.type === 'decisionTable' ? T('决策表') : view.type === 'drd' ? T('决策需求图') : T('表达式')) + ' ' +
        (view.element.name || view.element.id);
      button.addEventListener('click', function () { editor.open(view); });
      bar.appendChild(button);
    });
  }

  async function save(editor) {
    status.className = 'muted';
    status.textContent = T('正在校验并保存…');
    var saved = await editor.saveXML({ format: true });
    var result = await window.hnDeploy.deployFile(page.dataset.deploy, page.dataset.file, saved.xml,
      document.getElementById('comment').value, Number(page.dataset.version));
    window.hnDeploy.showResult(result, function () {});
    page.dataset.lastDeploy = JSON.stringify({ status: result.status, body: result.body });
  }

  async function start() {
    var editor = new window.DmnJS({ container: '#canvas', common: { keyboard: { bindTo: document } } });
    window.hnDecision = editor;
    var response = await fetch(page.dataset.source, { credentials: 'same-origin' });
    if (!response.ok) { throw new Error(T('无法读取文件（{status}）', { status: response.status })); }
    await editor.importXML(await response.text());
    var table = editor.getViews().find(function (view) { return view.type === 'decisionTable'; });
    if (table) { await editor.open(table); }
    showViews(editor);
    document.getElementById('save').disabled = false;
    document.getElementById('save').addEventListener('click', function () {
      save(editor).catch(function (err) { status.className = 'error'; status.textContent = T('保存失败：{reason}', { reason: err.message }); });
    });
    status.className = 'muted';
    status.textContent = T('已加载。输入、输出表达式用 Python 书写。');
    page.dataset.ready = 'true';
  }

  start().catch(function (err) {
    status.className = 'error';
    status.textContent = T('决策表编辑器无法启动：{reason}', { reason: err.message });
    page.dataset.ready = 'error';
  });
})();
