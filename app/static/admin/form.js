/* The form page: check an edited JSON Schema on the server, then download it. */
(function () {
  'use strict';
  var area = document.getElementById('schema');
  var result = document.getElementById('result');
  var check = document.getElementById('check');
  var token = document.querySelector('meta[name="csrf-token"]').content;

  check.addEventListener('click', async function () {
    var response = await fetch(check.dataset.url, {
      method: 'POST', credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', 'X-CSRFToken': token }, body: area.value
    });
    var body = await response.json();
    result.className = body.ok ? 'ok' : 'error';
    result.textContent = body.ok ? check.dataset.ok : body.errors.join('；');
  });

  document.getElementById('download').addEventListener('click', function () {
    this.href = URL.createObjectURL(new Blob([area.value], { type: 'application/json' }));
  });
})();
