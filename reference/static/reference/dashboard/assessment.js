/* Ruang Tanya dashboard: the open chat's Assessment — its topics, its READ scale value and its
 * question type (docs/protocol.md, Assessment; reference/assessment.py).
 *
 * The library's topics and whether the assessment is required come with the welcome; a held chat's
 * assessment comes inside its conversation payload (conv.assessment) and with every `assessment`
 * frame. Each change is sent at once as `assess` with the whole assessment; the server's answer is
 * the `assessment` frame, to every tab of this librarian. A close the library refuses for a missing
 * assessment (`assessment_required`) opens this section and moves the focus to it. It hooks into
 * the dashboard as a plugin: the `frame` hook (before main.js) and the `render` hook of chat.js. */
(function (app) {
  "use strict";
  if (!app || !document.getElementById("assessment")) return;
  var D = window.RuangTanyaDOM, h = D.h;
  var S = D.strings("assessment-strings");
  function t(key, params) { return D.format(Object.prototype.hasOwnProperty.call(S, key) ? S[key] : key, params); }
  function $(id) { return document.getElementById(id); }
  var el = {
    section: $("assessment"), toggle: $("assessment-toggle"), required: $("assessment-required"),
    summary: $("assessment-summary"), body: $("assessment-body"), filter: $("assessment-filter"),
    list: $("assessment-topic-list"), noMatch: $("assessment-no-match"), noTopics: $("assessment-no-topics"),
    read: $("assessment-read"), readClear: $("read-clear"), type: $("assessment-type"), status: $("assessment-status")
  };
  var radios = Array.prototype.slice.call(el.read.querySelectorAll("input[name='read_scale']"));
  var english = (document.documentElement.lang || "id").slice(0, 2) === "en";

  var setup = { required: false, topics: [] };  // the welcome's `assessment`
  var drawn = null;                             // what the controls show: conversation id + its assessment
  var savingFor = [];                           // conversation ids of `assess` frames not yet answered

  function label(topic) { return english ? topic.label_en : topic.label_id; }
  function otherLabel(topic) { return english ? topic.label_id : topic.label_en; }
  function assessmentOf(conv) { return conv.assessment || { topics: [], read_scale: null, question_type: null }; }
  function isEmpty(a) { return !a.topics.length && !a.read_scale && !a.question_type; }

  /* The library's active topics, and any inactive one already on this chat (it may stay). */
  function offered(conv) {
    var list = setup.topics.slice(), ids = {};
    list.forEach(function (topic) { ids[topic.id] = true; });
    assessmentOf(conv).topics.forEach(function (topic) { if (!ids[topic.id]) list.push(topic); });
    return list.sort(function (a, b) { return label(a).localeCompare(label(b)); });
  }

  function drawTopics(conv) {
    var chosen = {};
    assessmentOf(conv).topics.forEach(function (topic) { chosen[topic.id] = true; });
    el.list.textContent = "";
    offered(conv).forEach(function (topic) {
      var item = h("li", "assessment-topic");
      var box = h("input");
      box.type = "checkbox";
      box.id = "assessment-topic-" + topic.id;
      box.value = String(topic.id);
      box.checked = !!chosen[topic.id];
      var text = h("label", null, label(topic));
      text.htmlFor = box.id;
      if (otherLabel(topic) && otherLabel(topic) !== label(topic)) text.appendChild(h("span", "topic-other", otherLabel(topic)));
      item.dataset.search = (topic.label_id + " " + topic.label_en).toLowerCase();
      item.appendChild(box);
      item.appendChild(text);
      el.list.appendChild(item);
    });
    el.noTopics.hidden = setup.topics.length > 0 || el.list.children.length > 0;
    applyFilter();
  }

  function applyFilter() {
    var words = el.filter.value.toLowerCase().split(/\s+/).filter(Boolean);
    var shown = 0;
    Array.prototype.forEach.call(el.list.children, function (item) {
      var match = words.every(function (w) { return item.dataset.search.indexOf(w) !== -1; });
      item.hidden = !match;
      if (match) shown += 1;
    });
    el.noMatch.hidden = shown > 0 || !el.list.children.length;
  }

  function summary(conv) {
    var a = assessmentOf(conv), parts = [];
    if (a.read_scale) parts.push(t("read", { value: a.read_scale }));
    if (a.topics.length) parts.push(a.topics.map(label).join(", "));
    return parts.length ? parts.join(" · ") : t("none");
  }

  function render(conv) {
    if (!conv) return;
    var a = assessmentOf(conv);
    el.section.hidden = false;
    el.required.hidden = !setup.required;
    if (conv.assessmentOpen === undefined && conv.status === "closed" && isEmpty(a)) conv.assessmentOpen = true;
    var open = !!conv.assessmentOpen;
    el.toggle.setAttribute("aria-expanded", open ? "true" : "false");
    el.body.hidden = !open;
    el.summary.textContent = summary(conv);
    var key = conv.id + " " + JSON.stringify(a) + " " + JSON.stringify(setup);
    if (key !== drawn) {
      var focused = el.section.contains(document.activeElement) ? document.activeElement.id : null;
      if (drawn === null || drawn.split(" ")[0] !== String(conv.id)) el.filter.value = "";
      drawTopics(conv);
      radios.forEach(function (radio) { radio.checked = Number(radio.value) === a.read_scale; });
      el.type.value = a.question_type || "";
      drawn = key;
      if (focused && $(focused)) $(focused).focus();
    }
    el.status.textContent = conv.assessmentStatus || "";
    el.status.classList.toggle("is-error", !!conv.assessmentError);
  }

  function chosen() {
    var ids = [];
    el.list.querySelectorAll("input[type='checkbox']").forEach(function (box) { if (box.checked) ids.push(Number(box.value)); });
    var read = null;
    radios.forEach(function (radio) { if (radio.checked) read = Number(radio.value); });
    return { topics: ids, read_scale: read, question_type: el.type.value || null };
  }

  /* Every change goes out at once, with the whole assessment. */
  function save() {
    var conv = app.chat.active();
    if (!conv) return;
    var want = chosen();
    conv.assessmentError = false;
    if (!app.send({ type: "assess", conversation: conv.id, topics: want.topics, read_scale: want.read_scale,
                    question_type: want.question_type })) {
      conv.assessmentStatus = t("not_connected");
      conv.assessmentError = true;
      drawn = null;   // back to what the server has
      render(conv);
      return;
    }
    savingFor.push(conv.id);
    var byId = {};
    offered(conv).forEach(function (topic) { byId[topic.id] = topic; });
    conv.assessment = { topics: want.topics.map(function (id) { return byId[id]; }).filter(Boolean),
                        read_scale: want.read_scale, question_type: want.question_type };
    conv.assessmentStatus = t("saving");
    drawn = conv.id + " " + JSON.stringify(conv.assessment) + " " + JSON.stringify(setup);
    el.section.classList.remove("needs-attention");
    render(conv);
  }

  function onAssessment(frame) {
    var conv = app.state.convs.get(frame.conversation);
    if (!conv) return;
    var i = savingFor.indexOf(conv.id);
    if (i !== -1) savingFor.splice(i, 1);
    conv.assessment = frame.assessment;
    conv.assessmentStatus = savingFor.indexOf(conv.id) === -1 ? t("saved") : t("saving");
    conv.assessmentError = false;
    if (conv.id === app.state.activeId) render(conv);
  }

  function onRefused(frame) {
    var id = savingFor.shift();
    var conv = app.state.convs.get(id === undefined ? app.state.activeId : id);
    if (!conv) return;
    conv.assessmentStatus = t("not_saved", { reason: frame.message || "" });
    conv.assessmentError = true;
    if (conv.id === app.state.activeId) { drawn = null; render(conv); }
  }

  /* The library asks for an assessment before closing: show the section, say so, go there. */
  function onCloseRefused() {
    setTimeout(function () {
      var conv = app.chat.active();
      if (!conv) return;
      conv.assessmentOpen = true;
      render(conv);
      el.section.classList.add("needs-attention");
      el.section.focus();
    }, 0);
  }

  el.toggle.addEventListener("click", function () {
    var conv = app.chat.active();
    if (!conv) return;
    conv.assessmentOpen = !conv.assessmentOpen;
    render(conv);
  });
  el.filter.addEventListener("input", applyFilter);
  el.filter.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && el.filter.value) { event.preventDefault(); el.filter.value = ""; applyFilter(); }
  });
  el.list.addEventListener("change", save);
  el.read.addEventListener("change", save);
  el.type.addEventListener("change", save);
  el.readClear.addEventListener("click", function () {
    radios.forEach(function (radio) { radio.checked = false; });
    save();
  });
  // A tooltip shows on hover and on keyboard focus; Escape hides it until the focus or pointer moves on.
  el.read.addEventListener("keydown", function (event) {
    if (event.key === "Escape") el.read.classList.add("tips-hidden");
  });
  ["focusin", "mouseover"].forEach(function (type) {
    el.read.addEventListener(type, function (event) {
      if (event.type === "focusin" || !el.read.contains(event.relatedTarget)) el.read.classList.remove("tips-hidden");
    });
  });

  (window.RuangTanyaDashboardPlugins = window.RuangTanyaDashboardPlugins || []).push(function () {
    return {
      frame: function (frame) {
        if (frame.type === "welcome" && frame.assessment) {
          setup = { library: frame.assessment.library, required: !!frame.assessment.required,
                    topics: frame.assessment.topics || [] };
          drawn = null;
        } else if (frame.type === "assessment.setup") {
          // Staff changed a library's topics: keep our own library's, redraw the open chat's section.
          var changed = frame.assessment || {};
          if (changed.library === setup.library) {
            setup = { library: changed.library, required: !!changed.required, topics: changed.topics || [] };
            drawn = null;
            render(app.state.convs.get(app.state.activeId));
          }
          return true;
        } else if (frame.type === "assessment") {
          onAssessment(frame);
          return true;
        } else if (frame.type === "error" && frame.ref === "assess") {
          onRefused(frame);
          return true;
        } else if (frame.type === "error" && frame.code === "assessment_required") {
          onCloseRefused();   // chat.js shows the message and keeps the chat open
        }
        return false;
      },
      render: render
    };
  });
})(window.RuangTanyaDashboard);
