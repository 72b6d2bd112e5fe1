/* Saving from the modeler pages: POST the edited file, list the problems that come back. */
(function () {
  'use strict';

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : '';
  }

  /** Deploy one edited file; resolves to {ok, status, body}. */
  async function deployFile(url, file, xml, comment) {
    var response = await fetch(url, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', 'X-CSRFToken': csrfToken() },
      body: JSON.stringify({ file: file, xml: xml, comment: comment })
    });
    var body = {};
    try { body = await response.json(); } catch (e) { body = { error: { message: '服务器返回了无法识别的响应' } }; }
    return { ok: response.ok, status: response.status, body: body };
  }

  /** Show the outcome of a deploy in #status and #problems; returns the problems. */
  function showResult(result, onPick) {
    var status = document.getElementById('status');
    var list = document.getElementById('problems');
    list.textContent = '';
    list.hidden = true;
    if (result.ok) {
      status.className = 'ok';
      status.textContent = result.body.unchanged
        ? '与启用版本完全相同：未生成新版本（v' + result.body.version + '）'
        : '已部署为 v' + result.body.version + '，新申请将按此版本办理';
      return [];
    }
    var error = result.body.error || {};
    var problems = error.problems || [];
    status.className = 'error';
    status.textContent = '部署被拒绝：' + (error.message || result.status) +
      (problems.length ? '（' + problems.length + ' 个问题）' : '');
    problems.forEach(function (p) {
      var item = document.createElement('li');
      var where = [p.file, p.element, p.line ? '第 ' + p.line + ' 行' : null].filter(Boolean).join(' · ');
      var link = document.createElement(p.element ? 'a' : 'span');
      link.textContent = where;
      if (p.element) {
        link.href = '#';
        link.addEventListener('click', function (event) { event.preventDefault(); onPick(p); });
      }
      item.appendChild(link);
      item.appendChild(document.createTextNode('：' + p.message));
      item.dataset.element = p.element || '';
      list.appendChild(item);
    });
    list.hidden = problems.length === 0;
    return problems;
  }

  window.hnDeploy = { deployFile: deployFile, showResult: showResult };
})();
