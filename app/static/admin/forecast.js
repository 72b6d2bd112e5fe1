/* The forecast on the activation page: simulate the draft and the active version, a progress bar
 * while the engine runs, then per stage the table (median, p90 old vs new, difference with its 95 %
 * interval) and an ECharts chart of both cycle-time distributions. */
(function () {
  'use strict';
  var T = window.hnT;
  var card = document.getElementById('forecast');
  if (!card) { return; }

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : '';
  }

  function cell(row, text, cls) {
    var td = document.createElement('td');
    td.textContent = text;
    if (cls) { td.className = cls; }
    row.appendChild(td);
  }

  function days(v) { return v === null || v === undefined ? '—' : Number(v).toFixed(1); }

  function interval(ci) { return ci ? '[' + days(ci[0]) + ', ' + days(ci[1]) + ']' : ''; }

  function showResult(result) {
    var table = card.querySelector('#forecast-table tbody');
    var charts = card.querySelector('#forecast-charts');
    var notes = card.querySelector('#forecast-notes');
    table.textContent = ''; charts.textContent = ''; notes.textContent = '';
    card.querySelector('#forecast-result').hidden = false;  // before the charts: they measure their box
    if (!result.stages.length) {
      notes.textContent = T('该版本各阶段流程与启用版本相同：无须预测');
    }
    result.stages.forEach(function (s) {
      var row = document.createElement('tr');
      row.dataset.stage = s.stage;
      cell(row, s.stage);
      if (s.error) { cell(row, T('历史中没有该阶段的申请，无法预测')); table.appendChild(row); return; }
      var d = s.difference;
      cell(row, days(s.old.median)); cell(row, days(s.new.median));
      cell(row, days(d.median) + ' ' + interval(d.median_ci), d.median < 0 ? 'ok' : '');
      cell(row, days(s.old.p90)); cell(row, days(s.new.p90));
      cell(row, days(d.p90) + ' ' + interval(d.p90_ci), d.p90 < 0 ? 'ok' : '');
      cell(row, s.new.analyst_share > 0 ? T('{share}% 的模拟项目经过分析员估计的环节', { share: Math.round(s.new.analyst_share * 100) }) : T('全部基于历史'));
      table.appendChild(row);
      var box = document.createElement('div');
      box.className = 'forecast-chart';
      box.dataset.stage = s.stage;
      box.style.height = '260px';
      charts.appendChild(box);
      if (window.echarts) {
        var labels = s.histogram.edges.slice(0, -1).map(function (e, i) { return days(e) + '–' + days(s.histogram.edges[i + 1]); });
        window.echarts.init(box).setOption({
          title: { text: s.stage + ' · ' + T('阶段用时分布（工作日）'), textStyle: { fontSize: 13 } },
          tooltip: { trigger: 'axis' }, legend: { data: [T('启用版本 v{v}', { v: result.active }), T('待启用 v{v}', { v: result.candidate })], top: 22 },
          grid: { top: 60, left: 40, right: 10, bottom: 40 },
          xAxis: { type: 'category', data: labels, name: T('工作日'), axisLabel: { fontSize: 9 } },
          yAxis: { type: 'value', name: T('项目数') },
          series: [{ name: T('启用版本 v{v}', { v: result.active }), type: 'bar', data: s.histogram.old, itemStyle: { color: '#9aa5b1' } },
                   { name: T('待启用 v{v}', { v: result.candidate }), type: 'bar', data: s.histogram.new, itemStyle: { color: '#1f5fa8' } }]
        });
      }
      s.analyst_elements.forEach(function (e) {
        var p = document.createElement('p');
        p.className = 'muted analyst-input';
        p.textContent = T('{name}（{id}）用时按分析员估计：中位数 {median} 个工作日，九成在 {p90} 个工作日内', { name: e.name, id: e.id, median: e.median_days, p90: e.p90_days });
        notes.appendChild(p);
      });
      var stuck = (s.old.stuck || 0) + (s.new.stuck || 0);
      if (stuck) {
        var warn = document.createElement('p');
        warn.className = 'flash error stuck';
        warn.textContent = T('有 {n} 个模拟项目反复补正而未能结束（启用版本 {old} 个，待启用 {new} 个），未计入用时', { n: stuck, old: s.old.stuck || 0, new: s.new.stuck || 0 });
        notes.appendChild(warn);
      }
      s.new_elements.filter(function (e) { return !e.analyst; }).forEach(function (e) {
        var p = document.createElement('p');
        p.className = 'flash error';
        p.textContent = T('新环节 {name}（{id}）没有历史也没有估计：先按历史中同类任务或 1 个工作日计。可在建模器属性面板填写预测用时。', { name: e.name, id: e.id });
        notes.appendChild(p);
      });
    });
  }

  async function poll(url, bar, label) {
    for (;;) {
      var job = await (await fetch(url, { credentials: 'same-origin' })).json();
      if (job.error && job.status === undefined) { throw new Error(job.error.message); }
      bar.max = job.total || 1; bar.value = job.done || 0;
      label.textContent = T('已模拟 {done} / {total} 个项目', { done: job.done, total: job.total });
      if (job.status === 'done') { return job.result; }
      if (job.status === 'failed') { throw new Error(job.error); }
      await new Promise(function (resolve) { setTimeout(resolve, 700); });
    }
  }

  card.querySelector('#forecast-run').addEventListener('click', async function () {
    var button = this;
    var bar = card.querySelector('#forecast-progress');
    var label = card.querySelector('#forecast-status');
    button.disabled = true; bar.hidden = false; bar.value = 0;
    label.textContent = T('正在用流程引擎模拟……');
    try {
      var response = await fetch(card.dataset.url, {
        method: 'POST', credentials: 'same-origin',
        headers: { 'Content-Type': 'application/json', 'X-CSRFToken': csrfToken() },
        body: JSON.stringify({ n: parseInt(card.querySelector('#forecast-n').value, 10) || 1000, seed: 1 })
      });
      var body = await response.json();
      if (!response.ok) { throw new Error(body.error ? body.error.message : String(response.status)); }
      showResult(await poll(body.progress_url, bar, label));
      label.textContent = T('预测完成');
    } catch (err) {
      label.textContent = T('预测未完成：{message}', { message: err.message });
    } finally {
      button.disabled = false;
    }
  });
})();
