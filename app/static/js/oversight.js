// The supervision dashboard's charts (ECharts), drawn from the figures the page carries as JSON.
(function () {
  const source = document.getElementById('chart-data');
  if (!source || typeof echarts === 'undefined') return;
  const data = JSON.parse(source.textContent);
  const L = data.labels;
  const charts = [];
  function draw(id, option) {
    const el = document.getElementById(id);
    if (!el) return;
    const chart = echarts.init(el, null, {renderer: 'svg'});
    chart.setOption(Object.assign({animation: false, tooltip: {trigger: 'axis'}}, option));
    el.dataset.ready = 'true';
    charts.push(chart);
  }
  draw('chart-trend', {
    legend: {data: [L.accepted, L.finished, L.late]},
    xAxis: {type: 'category', data: data.trend.map(m => m.month)},
    yAxis: {type: 'value'},
    series: [
      {name: L.accepted, type: 'bar', data: data.trend.map(m => m.accepted)},
      {name: L.finished, type: 'bar', data: data.trend.map(m => m.finished)},
      {name: L.late, type: 'line', data: data.trend.map(m => m.late)},
    ],
  });
  draw('chart-lights', {
    tooltip: {trigger: 'item'},
    color: ['#2e9d5b', '#e6a700', '#d64541', '#9aa5b1'],
    series: [{type: 'pie', radius: ['40%', '70%'], data: data.lights.map(l => ({name: l.name, value: l.value}))}],
  });
  function durations(id, rows) {
    draw(id, {
      legend: {data: [L.median, L.p90]},
      grid: {left: 120},
      yAxis: {type: 'category', data: rows.map(r => r.name), inverse: true},
      xAxis: {type: 'value', name: L.days},
      series: [{name: L.median, type: 'bar', data: rows.map(r => r.median)},
               {name: L.p90, type: 'bar', data: rows.map(r => r.p90)}],
    });
  }
  durations('chart-stages', data.stages);
  durations('chart-cities', data.cities);
  window.addEventListener('resize', () => charts.forEach(c => c.resize()));
})();
