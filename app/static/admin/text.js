/* The admin pages' strings in the page's language: T(chinese, {name: …}) fills {name}.
   The server renders the translations of every string the scripts use into #ui-text. */
(function () {
  'use strict';
  var node = document.getElementById('ui-text');
  var table = node ? JSON.parse(node.textContent) : {};
  window.hnT = function (source, values) {
    var text = table[source] || source;
    return text.replace(/\{(\w+)\}/g, function (all, key) {
      return values && Object.prototype.hasOwnProperty.call(values, key) ? String(values[key]) : all;
    });
  };
})();
