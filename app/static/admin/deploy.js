/* Saving from the modeler pages: POST the edited file, list the problems that come back. */
(function () {
  'use strict';
  var T = window.hnT;

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : '';
  }

  /** Deploy one edited file; resolves to {ok, status, body}. */
  async function deployFile(url, file, xml, comment, base) {
    var response = await fetch(url, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', 'X-CSRFToken': csrfToken() },
      body: JSON.stringify({ file: file, xml: xml, comment: comment, base: base })
    });
    var body = {};
    try { body = await response.json(); } catch (e) { body = { error: { message: T('服务器返回了无法识别的响应') } }; }
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
        ? T('与已有的 v{version} 完全相同：未生成新版本', { version: result.body.version })
        : T('已保存为草稿 v{version}：核对差异后启用，新申请才按此版本办理', { version: result.body.version });
      if (!result.body.active && result.body.activate_url) {
        var link = document.createElement('a');
        link.href = result.body.activate_url;
        link.id = 'activate-link';
        link.className = 'button small';
        link.textContent = T('核对并启用 v{version}…', { version: result.body.version });
        status.appendChild(document.createTextNode(' '));
        status.appendChild(link);
      }
      return [];
    }
    var error = result.body.error || {};
    var problems = error.problems || [];
    status.className = 'error';
    status.textContent = T('部署被拒绝：{reason}', { reason: error.message || result.status });
    problems.forEach(function (p) {
      var item = document.createElement('li');
      var where = [p.file, p.element, p.line ? T('第 {line} 行', { line: p.line }) : null].filter(Boolean).join(' · ');
      var link = document.createElement(p.element ? 'a' : 'span');
      link.textContent = where;
      if (p.element) {
        link.href = '#';
        link.addEventListener('click', function (event) { event.preventDefault(); onPick(p); });
      }
      item.appendChild(link);
      item.appendChild(document.createTextNode(T('：') + p.message));
      item.dataset.element = p.element || '';
      list.appendChild(item);
    });
    list.hidden = problems.length === 0;
    return problems;
  }

  window.hnDeploy = { deployFile: deployFile, showResult: showResult };
})();
