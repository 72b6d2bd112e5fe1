/* References bpmn-js cannot resolve but SpiffWorkflow reads: a multi-instance activity's
 * loopDataInputRef / loopDataOutputRef name task data (a list), not a BPMN data object, so
 * bpmn-js drops them on import.  They are noted before import and put back after export. */
(function () {
  'use strict';

  var BPMN = 'http://www.omg.org/spec/BPMN/20100524/MODEL';
  var REFS = ['loopDataInputRef', 'loopDataOutputRef'];
  var LATER = {
    loopDataInputRef: ['loopDataOutputRef', 'inputDataItem', 'outputDataItem', 'complexBehaviorDefinition',
      'completionCondition'],
    loopDataOutputRef: ['inputDataItem', 'outputDataItem', 'complexBehaviorDefinition', 'completionCondition']
  };

  function parse(xml) {
    return new DOMParser().parseFromString(xml, 'application/xml');
  }

  function byId(doc) {
    var map = {};
    Array.prototype.forEach.call(doc.getElementsByTagName('*'), function (node) {
      if (node.getAttribute('id')) { map[node.getAttribute('id')] = node; }
    });
    return map;
  }

  /** The loop references of a document that name no element of it. */
  function dangling(xml) {
    var doc = parse(xml);
    var ids = byId(doc);
    var kept = [];
    Array.prototype.forEach.call(doc.getElementsByTagNameNS(BPMN, 'multiInstanceLoopCharacteristics'), function (mi) {
      Array.prototype.forEach.call(mi.children, function (child) {
        var text = child.textContent.trim();
        if (child.namespaceURI === BPMN && REFS.indexOf(child.localName) >= 0 && text && !ids[text]) {
          kept.push({ owner: mi.parentNode.getAttribute('id'), name: child.localName, text: text });
        }
      });
    });
    return kept;
  }

  /** Put the noted references back into an exported document where they went missing. */
  function restore(xml, kept) {
    if (!kept.length) { return xml; }
    var doc = parse(xml);
    var ids = byId(doc);
    var changed = false;
    kept.forEach(function (ref) {
      var owner = ids[ref.owner];
      var mi = owner && Array.prototype.find.call(owner.children, function (c) {
        return c.namespaceURI === BPMN && c.localName === 'multiInstanceLoopCharacteristics';
      });
      if (!mi || Array.prototype.some.call(mi.children, function (c) { return c.localName === ref.name; })) { return; }
      var node = doc.createElementNS(BPMN, (mi.prefix ? mi.prefix + ':' : '') + ref.name);
      node.textContent = ref.text;
      var before = Array.prototype.find.call(mi.children, function (c) { return LATER[ref.name].indexOf(c.localName) >= 0; });
      mi.insertBefore(node, before || null);
      changed = true;
    });
    if (!changed) { return xml; }
    var out = new XMLSerializer().serializeToString(doc);
    return out.indexOf('<?xml') === 0 ? out : '<?xml version="1.0" encoding="UTF-8"?>\n' + out;
  }

  /** Import warnings that only concern the noted references. */
  function expectedWarning(warning, kept) {
    return kept.some(function (ref) { return warning.message.indexOf('<' + ref.text + '>') >= 0; });
  }

  window.hnPreserve = { dangling: dangling, restore: restore, expectedWarning: expectedWarning };
})();
