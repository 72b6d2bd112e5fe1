/* The platform panel: what our platform reads from a model, edited through bpmn-js's modeling
 * service (so every change can be undone): a lane's role code, a user task's catalogue item, form
 * and variable name, a gateway flow's condition and default mark, a timer's expression, a business
 * rule task's decision, a call activity's process. */
(function () {
  'use strict';
  var T = window.hnT;

  var TIMER_KINDS = { timeDuration: T('持续时间（timeDuration）'), timeDate: T('日期时间（timeDate）'), timeCycle: T('循环（timeCycle）') };

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      if (key === 'text') { node.textContent = attrs[key]; } else { node.setAttribute(key, attrs[key]); }
    });
    (children || []).forEach(function (child) { node.appendChild(child); });
    return node;
  }

  function field(label, control) {
    return el('label', { class: 'platform-field' }, [el('span', { text: label }), control]);
  }

  function select(name, choices, value, onChange) {
    var control = el('select', { name: name });
    control.appendChild(el('option', { value: '', text: T('（未设置）') }));
    choices.forEach(function (choice) {
      var option = el('option', { value: choice.value, text: choice.label });
      if (choice.value === value) { option.selected = true; }
      control.appendChild(option);
    });
    if (value && !choices.some(function (c) { return c.value === value; })) {
      var unknown = el('option', { value: value, text: value + T('（未知）') });
      unknown.selected = true;
      control.appendChild(unknown);
    }
    control.addEventListener('change', function () { onChange(control.value); });
    return control;
  }

  function input(name, value, onChange, multiline) {
    var control = el(multiline ? 'textarea' : 'input', { name: name, spellcheck: 'false' });
    control.value = value || '';
    if (multiline) { control.rows = 3; }
    control.addEventListener('change', function () { onChange(control.value.trim()); });
    return control;
  }

  function Panel(modeler, container, options) {
    this.modeler = modeler;
    this.container = container;
    this.options = options;
    this.moddle = modeler.get('moddle');
    this.modeling = modeler.get('modeling');
    this.element = null;
  }

  Panel.prototype.extensions = function (bo, type) {
    var ext = bo.get('extensionElements');
    return ext ? ext.get('values').filter(function (v) { return v.$type === type; }) : [];
  };

  Panel.prototype.ensureExtensions = function (element) {
    var bo = element.businessObject;
    if (!bo.get('extensionElements')) {
      var ext = this.moddle.create('bpmn:ExtensionElements', { values: [] });
      ext.$parent = bo;
      this.modeling.updateProperties(element, { extensionElements: ext });
    }
    return bo.get('extensionElements');
  };

  Panel.prototype.property = function (bo, name) {
    var props = this.extensions(bo, 'spiffworkflow:Properties')[0];
    var found = props && props.get('properties').find(function (p) { return p.name === name; });
    return found ? found.value : '';
  };

  Panel.prototype.setProperty = function (element, name, value) {
    var ext = this.ensureExtensions(element);
    var props = this.extensions(element.businessObject, 'spiffworkflow:Properties')[0];
    if (!props) {
      props = this.moddle.create('spiffworkflow:Properties', { properties: [] });
      props.$parent = ext;
      this.modeling.updateModdleProperties(element, ext, { values: ext.get('values').concat([props]) });
    }
    var list = props.get('properties');
    var existing = list.find(function (p) { return p.name === name; });
    if (existing && !value) {
      this.modeling.updateModdleProperties(element, props, { properties: list.filter(function (p) { return p !== existing; }) });
    } else if (existing) {
      this.modeling.updateModdleProperties(element, existing, { value: value });
    } else if (value) {
      var prop = this.moddle.create('spiffworkflow:Property', { name: name, value: value });
      prop.$parent = props;
      this.modeling.updateModdleProperties(element, props, { properties: list.concat([prop]) });
    }
  };

  Panel.prototype.bodyExtension = function (bo, type) {
    var found = this.extensions(bo, type)[0];
    return found ? found.value || '' : '';
  };

  Panel.prototype.setBodyExtension = function (element, type, value) {
    var ext = this.ensureExtensions(element);
    var found = this.extensions(element.businessObject, type)[0];
    if (found && !value) {
      this.modeling.updateModdleProperties(element, ext, { values: ext.get('values').filter(function (v) { return v !== found; }) });
    } else if (found) {
      this.modeling.updateModdleProperties(element, found, { value: value });
    } else if (value) {
      var node = this.moddle.create(type, { value: value });
      node.$parent = ext;
      this.modeling.updateModdleProperties(element, ext, { values: ext.get('values').concat([node]) });
    }
  };

  Panel.prototype.laneRoleOf = function (element) {
    var bo = element.businessObject;
    var lanes = (bo.get('lanes') || []);
    return lanes.length ? lanes[lanes.length - 1].name : '';
  };

  Panel.prototype.laneFields = function (element) {
    var self = this;
    var roles = this.options.roles.map(function (r) { return { value: r.code, label: r.code + ' — ' + r.name }; });
    return [field(T('泳道角色（派发到该角色的单位）'), select('role', roles, element.businessObject.name, function (code) {
      self.modeling.updateProperties(element, { name: code });
    }))];
  };

  Panel.prototype.userTaskFields = function (element) {
    var self = this;
    var bo = element.businessObject;
    var lane = this.laneRoleOf(element);
    var items = this.options.items.slice().sort(function (a, b) {
      return (b.role === lane) - (a.role === lane) || a.code.localeCompare(b.code);
    }).map(function (i) { return { value: i.code, label: i.code + ' ' + i.name + '（' + i.role + '）' }; });
    var forms = this.options.forms.map(function (f) { return { value: f, label: f }; });
    return [
      field(T('事项（item_code）') + (lane ? T('，泳道 {lane}', { lane: lane }) : ''), select('item_code', items, this.property(bo, 'item_code'),
        function (v) { self.setProperty(element, 'item_code', v); })),
      field(T('或：事项数据变量（item_data，多实例逐事项审查）'), input('item_data', this.property(bo, 'item_data'),
        function (v) { self.setProperty(element, 'item_data', v); })),
      field(T('表单（formJsonSchemaFilename）'), select('form', forms, this.property(bo, 'formJsonSchemaFilename'),
        function (v) { self.setProperty(element, 'formJsonSchemaFilename', v); })),
      field(T('结果变量（variableName）'), input('variableName', this.bodyExtension(bo, 'spiffworkflow:VariableName'),
        function (v) { self.setBodyExtension(element, 'spiffworkflow:VariableName', v); })),
      // the analyst's figures for the forecast of a version, where history has none (new elements)
      field(T('预测：办理用时中位数（forecast_days，工作日）'), input('forecast_days', this.property(bo, 'forecast_days'),
        function (v) { self.setProperty(element, 'forecast_days', v); })),
      field(T('预测：九成在此用时内（forecast_p90_days，工作日）'), input('forecast_p90_days', this.property(bo, 'forecast_p90_days'),
        function (v) { self.setProperty(element, 'forecast_p90_days', v); })),
      field(T('预测：结论概率（forecast_outcomes，如 approve:0.9,correct:0.1）'), input('forecast_outcomes', this.property(bo, 'forecast_outcomes'),
        function (v) { self.setProperty(element, 'forecast_outcomes', v); }))
    ];
  };

  Panel.prototype.flowFields = function (element) {
    var self = this;
    var bo = element.businessObject;
    var gateway = element.source;
    var isDefault = gateway.businessObject.get('default') === bo;
    var condition = bo.get('conditionExpression');
    var box = el('input', { type: 'checkbox', name: 'default' });
    box.checked = isDefault;
    box.addEventListener('change', function () {
      self.modeling.updateProperties(gateway, { 'default': box.checked ? bo : undefined });
      self.render(element);
    });
    var fields = [field(T('默认流（其他条件都不满足时走这里）'), box)];
    if (!isDefault) {
      fields.push(field(T('条件（Python 表达式，例如 review[\'outcome\'] == \'correct\'）'),
        input('condition', condition ? condition.body : '', function (v) {
          var expression = v ? self.moddle.create('bpmn:FormalExpression', { body: v }) : undefined;
          self.modeling.updateProperties(element, { conditionExpression: expression });
        }, true)));
    }
    return fields;
  };

  Panel.prototype.timerFields = function (element, definition) {
    var self = this;
    var kind = Object.keys(TIMER_KINDS).find(function (k) { return definition.get(k); }) || 'timeDuration';
    var current = definition.get(kind);
    var kinds = Object.keys(TIMER_KINDS).map(function (k) { return { value: k, label: TIMER_KINDS[k] }; });
    function write(newKind, body) {
      var changes = { timeDuration: undefined, timeDate: undefined, timeCycle: undefined };
      if (body) { changes[newKind] = self.moddle.create('bpmn:FormalExpression', { body: body }); }
      self.modeling.updateModdleProperties(element, definition, changes);
    }
    var expression = input('timer', current ? current.body : '', function (v) { write(kindControl.value || kind, v); });
    var kindControl = select('timerKind', kinds, kind, function (k) { write(k || kind, expression.value.trim()); });
    return [field(T('定时类型'), kindControl),
      field(T('定时表达式（Python：ISO 值要加引号，如 \'P5D\'；或 working_days_after(5)）'), expression)];
  };

  Panel.prototype.fieldsFor = function (element) {
    var bo = element.businessObject;
    var type = bo.$type;
    if (type === 'bpmn:Lane') { return [T('泳道'), this.laneFields(element)]; }
    if (type === 'bpmn:UserTask') { return [T('用户任务'), this.userTaskFields(element)]; }
    if (type === 'bpmn:SequenceFlow' && element.source &&
        /^bpmn:(Exclusive|Inclusive)Gateway$/.test(element.source.businessObject.$type)) {
      return [T('网关出口'), this.flowFields(element)];
    }
    var timer = (bo.get('eventDefinitions') || []).find(function (d) { return d.$type === 'bpmn:TimerEventDefinition'; });
    if (timer) { return [T('定时事件'), this.timerFields(element, timer)]; }
    var self = this;
    if (type === 'bpmn:BusinessRuleTask') {
      var decisions = this.options.decisions.map(function (d) { return { value: d, label: d }; });
      return [T('业务规则任务'), [field(T('决策（calledDecisionId）'), select('decision', decisions,
        this.bodyExtension(bo, 'spiffworkflow:CalledDecisionId'),
        function (v) { self.setBodyExtension(element, 'spiffworkflow:CalledDecisionId', v); }))]];
    }
    if (type === 'bpmn:CallActivity') {
      var processes = this.options.processes.map(function (p) { return { value: p, label: p }; });
      return [T('调用活动'), [field(T('被调用的流程（calledElement）'), select('calledElement', processes, bo.get('calledElement'),
        function (v) { self.modeling.updateProperties(element, { calledElement: v || undefined }); }))]];
    }
    return null;
  };

  Panel.prototype.render = function (element) {
    this.element = element;
    this.container.textContent = '';
    var found = element ? this.fieldsFor(element) : null;
    if (!found) {
      this.container.appendChild(el('p', { class: 'muted', text: T('选中泳道、用户任务、网关出口、定时事件、业务规则任务或调用活动，设置平台读取的属性。') }));
      return;
    }
    this.container.appendChild(el('h3', { text: T('平台属性') + ' · ' + found[0] + ' ' + element.id }));
    found[1].forEach(function (node) { this.container.appendChild(node); }, this);
  };

  function attach(modeler, container, options) {
    var panel = new Panel(modeler, container, options);
    modeler.on('selection.changed', function (event) {
      panel.render(event.newSelection.length === 1 ? event.newSelection[0] : null);
    });
    modeler.on('elements.changed', function (event) {
      if (panel.element && event.elements.some(function (e) { return e.id === panel.element.id; })) {
        var active = document.activeElement;
        if (!container.contains(active)) { panel.render(panel.element); }
      }
    });
    panel.render(null);
    return panel;
  }

  window.hnPlatformPanel = { attach: attach };
})();
