// askwell web editor: analyse the question as the person types.
//
// Rules this file keeps:
// - Every piece of user text or API text reaches the page through textContent or
//   createTextNode, never through innerHTML.
// - Only the response to the latest request is rendered: requests are debounced, the
//   previous one is aborted, and a response is dropped unless the text is unchanged.
// - Offsets from the API are Python str indices (code points); they are converted to
//   JavaScript (UTF-16) indices before touching a string.
"use strict";

(() => {
  const DEBOUNCE_MS = 300;
  const API = { analyze: "v1/analyze", feedback: "v1/feedback" };
  const VERDICTS = {
    strong: "Strong",
    fine: "Fine",
    at_risk: "At risk",
    likely_closed: "Likely closed",
  };
  const STATS = [
    ["flesch_reading_ease", "Reading ease (Flesch)", (v) => v.toFixed(0)],
    ["flesch_kincaid_grade", "Grade level", (v) => v.toFixed(1)],
    ["grade_level", "Grade level", (v) => v.toFixed(1)],
    ["sentences", "Sentences", (v) => v.toFixed(0)],
    ["words", "Words", (v) => v.toFixed(0)],
    ["avg_word_length", "Average word length", (v) => v.toFixed(1)],
    ["vocabulary_diversity", "Vocabulary diversity", (v) => `${Math.round(v * 100)}%`],
  ];

  const $ = (id) => document.getElementById(id);
  const el = {
    title: $("title"), body: $("body"), tags: $("tags"),
    titleHl: $("title-hl"), bodyHl: $("body-hl"),
    panel: $("analysis"), status: $("status"), error: $("error"),
    gauge: $("gauge"), gaugeFill: $("gauge-fill"), gaugeThreshold: $("gauge-threshold"),
    score: $("score"), verdict: $("verdict"), confidence: $("confidence"), delta: $("delta"),
    verdictWrong: $("verdict-wrong"), notices: $("notices"),
    suggestions: $("suggestions"), noSuggestions: $("no-suggestions"),
    stats: $("stats"), model: $("model"),
  };

  const state = {
    timer: null,
    controller: null,
    seq: 0,
    current: null, // {request, response, at}: the analysis on screen
    active: null,  // id of the suggestion being hovered / focused
  };

  // ---- small helpers -------------------------------------------------------------------
  function h(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "class") node.className = v;
      else if (k === "text") node.textContent = v;
      else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, v === true ? "" : String(v));
    }
    for (const c of children) {
      if (c === null || c === undefined || c === false) continue;
      node.append(typeof c === "string" ? document.createTextNode(c) : c);
    }
    return node;
  }

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
  }

  /** Python code-point index -> JavaScript UTF-16 index into `text`. */
  function toUnits(text, cp) {
    let units = 0;
    let count = 0;
    for (const ch of text) {
      if (count >= cp) break;
      units += ch.length;
      count += 1;
    }
    return units;
  }

  /** [start, end) of a suggestion in UTF-16 units, or null if it does not fit `text`. */
  function span(text, s) {
    if (!Number.isInteger(s.start) || !Number.isInteger(s.length)) return null;
    if (s.start < 0 || s.length < 0) return null;
    if (s.start + s.length > Array.from(text).length) return null;
    const start = toUnits(text, s.start);
    return [start, toUnits(text, s.start + s.length)];
  }

  function parseTags(raw) {
    return raw.split(/[\s,]+/).map((t) => t.trim()).filter(Boolean);
  }

  function readQuestion() {
    return { title: el.title.value, body: el.body.value, tags: parseTags(el.tags.value) };
  }

  function sameQuestion(a, b) {
    return a.title === b.title && a.body === b.body && a.tags.join("\n") === b.tags.join("\n");
  }

  /** True when the analysis on screen describes exactly what is in the editor now. */
  function isFresh() {
    return state.current !== null && sameQuestion(state.current.request, readQuestion());
  }

  const pts = (p) => `${p >= 0 ? "+" : "−"}${Math.abs(p * 100).toFixed(1)} pts`;

  function errorMessage(status, payload) {
    const msg = payload && payload.error && typeof payload.error.message === "string"
      ? payload.error.message : "";
    if (status === 413) return msg || "The question is too long to analyse.";
    if (status === 429) return msg || "Too many requests: slow down a moment, then keep typing.";
    if (status === 422) return msg || "This question can't be analysed yet.";
    return msg || `The analysis failed (HTTP ${status}). Try again in a moment.`;
  }

  // ---- requests ------------------------------------------------------------------------
  function schedule() {
    clearTimeout(state.timer);
    if (state.controller) state.controller.abort(); // the text changed: that answer is stale
    drawHighlights();
    syncApplyButtons();
    const q = readQuestion();
    if (!q.title.trim() && !q.body.trim()) {
      state.seq += 1; // nothing to analyse: forget any answer still on its way
      state.current = null;
      setBusy(false);
      el.error.hidden = true;
      el.panel.dataset.state = "empty";
      el.status.textContent = "Start writing to see how your question will be received.";
      drawHighlights();
      return;
    }
    el.panel.dataset.state = state.current ? "stale" : "empty";
    state.timer = setTimeout(() => analyze(q), DEBOUNCE_MS);
  }

  async function analyze(q) {
    const seq = ++state.seq;
    if (state.controller) state.controller.abort();
    const controller = new AbortController();
    state.controller = controller;
    setBusy(true);
    let res;
    let payload = null;
    try {
      res = await fetch(API.analyze, {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify(q),
        signal: controller.signal,
      });
      payload = await res.json().catch(() => null);
    } catch (err) {
      if (err.name === "AbortError") return;
      if (seq !== state.seq) return;
      setBusy(false);
      showError("Can't reach the askwell service. Check that it is running, then keep typing.");
      return;
    }
    if (seq !== state.seq || !sameQuestion(q, readQuestion())) return; // stale: drop it
    state.controller = null;
    setBusy(false);
    if (!res.ok || !payload || typeof payload.score !== "number") {
      showError(res.ok ? "The service sent an answer this page can't read." : errorMessage(res.status, payload));
      return;
    }
    const previous = state.current;
    state.current = { request: q, response: payload, at: performance.now() };
    if (previous && previous.response.request_id) {
      const seconds = (state.current.at - previous.at) / 1000;
      sendFeedback(previous.response.request_id, "reanalyzed", { value: Math.round(seconds * 10) / 10 });
    }
    render(payload, previous ? previous.response : null);
  }

  async function sendFeedback(requestId, kind, extra = {}) {
    const body = { request_id: requestId, kind, ...extra };
    try {
      const res = await fetch(API.feedback, {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify(body),
      });
      if (!res.ok) {
        const payload = await res.json().catch(() => null);
        return { ok: false, message: errorMessage(res.status, payload) };
      }
      return { ok: true };
    } catch {
      return { ok: false, message: "Can't reach the askwell service to send feedback." };
    }
  }

  function setBusy(busy) {
    el.panel.setAttribute("aria-busy", busy ? "true" : "false");
    if (busy) el.status.textContent = "Analysing…";
  }

  function showError(message) {
    el.error.textContent = message;
    el.error.hidden = false;
    el.status.textContent = "The last analysis failed.";
    el.panel.dataset.state = state.current ? "stale" : "error";
  }

  // ---- rendering -----------------------------------------------------------------------
  function render(r, previous) {
    el.error.hidden = true;
    el.panel.dataset.state = r.abstained ? "abstained" : "ready";
    renderScore(r, previous);
    renderNotices(r);
    renderSuggestions(r);
    renderStats(r.stats || {});
    renderModel(r);
    drawHighlights();
    const verdict = r.abstained ? "no verdict" : VERDICTS[r.verdict] || r.verdict;
    const n = (r.suggestions || []).length;
    el.status.textContent = `Score ${Math.round(r.score * 100)}, ${verdict}; ${n} suggestion${n === 1 ? "" : "s"}.`;
  }

  function renderScore(r, previous) {
    const score = Math.max(0, Math.min(1, r.score));
    const value = Math.round(score * 100);
    const verdictLabel = VERDICTS[r.verdict] || String(r.verdict);
    el.gauge.dataset.verdict = r.abstained ? "none" : r.verdict;
    el.gauge.setAttribute("aria-valuenow", String(value));
    el.gauge.setAttribute("aria-valuetext",
      r.abstained ? `${value} out of 100, no verdict` : `${value} out of 100, ${verdictLabel}`);
    el.gaugeFill.setAttribute("stroke-dasharray", `${score * 100} 100`);
    if (typeof r.threshold === "number") {
      const angle = (Math.max(0, Math.min(1, r.threshold)) - 0.5) * 180;
      el.gaugeThreshold.setAttribute("transform", `rotate(${angle.toFixed(1)} 100 100)`);
    }
    el.score.textContent = String(value);
    el.verdict.textContent = r.abstained ? "No verdict" : verdictLabel;
    el.verdict.dataset.verdict = r.abstained ? "none" : r.verdict;
    const conf = Math.round((r.confidence || 0) * 100);
    el.confidence.textContent = r.abstained
      ? "The model isn't sure enough about this question to judge it."
      : `Confidence ${conf}%${r.low_confidence ? " (low)" : ""} · passes at ${Math.round(r.threshold * 100)}`;
    el.delta.textContent = "";
    el.delta.className = "delta";
    if (previous && typeof previous.score === "number") {
      const d = r.score - previous.score;
      if (Math.abs(d) >= 0.0005) {
        el.delta.textContent = `${d > 0 ? "▲" : "▼"} ${pts(d)} since the last analysis`;
        el.delta.classList.add(d > 0 ? "up" : "down");
      }
    }
    el.verdictWrong.hidden = !!r.abstained;
    el.verdictWrong.disabled = false;
    el.verdictWrong.textContent = "This verdict looks wrong";
  }

  function renderNotices(r) {
    clear(el.notices);
    if (r.fallback) {
      el.notices.append(h("p", { class: "notice fallback",
        text: "Scored by the simple fallback model: the main model couldn't be used for this question." }));
    }
    if (r.abstained) {
      el.notices.append(h("p", { class: "notice abstained",
        text: "No verdict: only the writing statistics and the most certain suggestions are shown." }));
    } else if (r.low_confidence) {
      el.notices.append(h("p", { class: "notice low",
        text: "Low confidence: treat this score as a rough guide." }));
    }
    for (const w of r.warnings || []) {
      el.notices.append(h("p", { class: "notice warning", text: String(w) }));
    }
  }

  function describeEdit(s, text) {
    const range = text === null ? null : span(text, s);
    if (!range || typeof s.replacement !== "string") return null;
    const old = text.slice(range[0], range[1]);
    // line breaks at either end are part of the edit but only add blank lines here
    const shown = (t) => (t.trim() ? t.replace(/^\n+|\n+$/g, "")
      : t.includes("\n") ? "a line break" : t ? "a space" : "");
    const parts = [];
    if (old) parts.push(h("del", { text: shown(old) }));
    if (old && s.replacement) parts.push(" → ");
    if (s.replacement) parts.push(h("ins", { text: shown(s.replacement) }));
    if (!old && !s.replacement) return null;
    const label = !old ? "Insert " : !s.replacement ? "Remove " : "Change ";
    return h("p", { class: "edit" }, label, ...parts);
  }

  function fieldText(field) {
    if (!state.current) return null;
    if (field === "title") return state.current.request.title;
    if (field === "body") return state.current.request.body;
    return null;
  }

  function renderSuggestions(r) {
    clear(el.suggestions);
    const list = r.suggestions || [];
    el.noSuggestions.hidden = list.length > 0;
    el.noSuggestions.textContent = "Nothing to suggest: the model sees no edit that would help.";
    state.active = null;
    list.forEach((s, i) => {
      const text = fieldText(s.field);
      const canApply = text !== null && typeof s.replacement === "string" && span(text, s) !== null;
      const gain = h("span", { class: "gain", text: pts(s.gain || 0), title: "Expected rise in score" });
      const status = h("span", { class: "fb-status", role: "status" });
      const fbButton = (kind, label) => h("button", {
        type: "button", class: `fb ${kind}`, "aria-pressed": "false", text: label,
        "aria-label": `${label}: ${s.message}`,
        onclick: async (ev) => {
          const button = ev.currentTarget;
          const row = button.parentElement;
          for (const b of row.querySelectorAll("button.fb")) b.disabled = true;
          const res = await sendFeedback(r.request_id, kind, { suggestion_id: s.id });
          if (res.ok) {
            button.setAttribute("aria-pressed", "true");
            status.textContent = "Thanks for the feedback.";
          } else {
            for (const b of row.querySelectorAll("button.fb")) b.disabled = false;
            status.textContent = res.message;
          }
        },
      });
      const item = h("li", {
          class: `suggestion sev-${s.severity || "low"}`, "data-id": s.id,
          onmouseenter: () => setActive(s.id), onmouseleave: () => setActive(null),
          onfocusin: () => setActive(s.id), onfocusout: () => setActive(null),
        },
        h("div", { class: "s-head" },
          h("span", { class: "rank", text: String(i + 1), "aria-hidden": "true" }),
          h("p", { class: "message", text: s.message }),
          gain),
        h("p", { class: "meta" },
          h("span", { class: `tag cat`, text: String(s.category || "").replace(/_/g, " ") }),
          h("span", { class: `tag sev`, text: `${s.severity || "low"} impact` }),
          s.field === "title" || s.field === "body" ? h("span", { class: "where", text: `in the ${s.field}` }) : null,
          s.detail ? h("span", { class: "detail", text: s.detail }) : null),
        describeEdit(s, text),
        h("div", { class: "actions" },
          canApply ? h("button", {
            type: "button", class: "apply", text: "Apply", "aria-label": `Apply: ${s.message}`,
            onclick: () => apply(r, s),
          }) : null,
          fbButton("helpful", "Helpful"),
          fbButton("not_helpful", "Not helpful"),
          status));
      el.suggestions.append(item);
    });
    syncApplyButtons();
  }

  function renderStats(stats) {
    clear(el.stats);
    const seen = new Set();
    for (const [key, label, fmt] of STATS) {
      if (typeof stats[key] !== "number" || seen.has(label)) continue;
      seen.add(label);
      el.stats.append(h("div", {}, h("dt", { text: label }), h("dd", { text: fmt(stats[key]) })));
    }
    for (const [key, v] of Object.entries(stats)) {
      if (STATS.some(([k]) => k === key) || typeof v !== "number") continue;
      el.stats.append(h("div", {}, h("dt", { text: key.replace(/_/g, " ") }), h("dd", { text: String(v) })));
    }
  }

  function renderModel(r) {
    const m = r.model || {};
    const bits = [];
    if (m.name) bits.push(`Model ${m.name}${m.version ? ` (version ${m.version})` : ""}`);
    if (m.dataset_id) bits.push(`data ${String(m.dataset_id).slice(0, 8)}`);
    if (typeof r.latency_ms === "number") bits.push(`${r.latency_ms.toFixed(0)} ms${r.cached ? " (cached)" : ""}`);
    el.model.textContent = bits.join(" · ");
  }

  // ---- highlights ----------------------------------------------------------------------
  function setActive(id) {
    state.active = id;
    for (const m of document.querySelectorAll(".hl mark")) {
      m.classList.toggle("active", m.dataset.id === id);
    }
  }

  function drawHighlights() {
    for (const [field, input, layer] of [["title", el.title, el.titleHl], ["body", el.body, el.bodyHl]]) {
      clear(layer);
      const text = input.value;
      const fresh = isFresh();
      const spans = [];
      if (fresh) {
        for (const s of state.current.response.suggestions || []) {
          if (s.field !== field) continue;
          const range = span(text, s);
          if (range) spans.push({ s, range });
        }
      }
      spans.sort((a, b) => a.range[0] - b.range[0] || a.range[1] - b.range[1]);
      let pos = 0;
      for (const { s, range } of spans) {
        const [start, end] = range;
        if (start < pos) continue; // overlaps a higher-placed span; keep the first
        if (start > pos) layer.append(document.createTextNode(text.slice(pos, start)));
        const mark = h("mark", { class: `sev-${s.severity || "low"}${start === end ? " caret" : ""}`, "data-id": s.id });
        mark.textContent = text.slice(start, end);
        if (s.id === state.active) mark.classList.add("active");
        layer.append(mark);
        pos = end;
      }
      // A trailing space keeps a final empty line the same height as in the textarea.
      layer.append(document.createTextNode(text.slice(pos) + (field === "body" ? " " : "")));
    }
    syncScroll();
  }

  function syncScroll() {
    el.titleHl.parentElement.scrollLeft = el.title.scrollLeft;
    el.bodyHl.parentElement.scrollTop = el.body.scrollTop;
  }

  function syncApplyButtons() {
    const fresh = isFresh();
    for (const b of el.suggestions.querySelectorAll("button.apply")) {
      b.disabled = !fresh;
      b.title = fresh ? "" : "Wait for the analysis of your latest edit";
    }
  }

  // ---- actions -------------------------------------------------------------------------
  function apply(r, s) {
    if (!isFresh()) return; // offsets describe older text
    const input = s.field === "title" ? el.title : el.body;
    const range = span(input.value, s);
    if (!range) return;
    const [start, end] = range;
    input.value = input.value.slice(0, start) + s.replacement + input.value.slice(end);
    const caret = start + s.replacement.length;
    sendFeedback(r.request_id, "applied", { suggestion_id: s.id });
    input.focus();
    input.setSelectionRange(caret, caret);
    autogrow();
    schedule();
  }

  async function verdictWrong() {
    if (!state.current) return;
    el.verdictWrong.disabled = true;
    const res = await sendFeedback(state.current.response.request_id, "verdict_wrong");
    el.verdictWrong.textContent = res.ok ? "Thanks: noted that the verdict looks wrong." : res.message;
    if (!res.ok) el.verdictWrong.disabled = false;
  }

  function autogrow() {
    el.body.style.height = "auto";
    el.body.style.height = `${el.body.scrollHeight + 2}px`;
  }

  // ---- wiring --------------------------------------------------------------------------
  for (const input of [el.title, el.body, el.tags]) input.addEventListener("input", schedule);
  el.body.addEventListener("input", autogrow);
  el.title.addEventListener("scroll", syncScroll);
  el.body.addEventListener("scroll", syncScroll);
  el.title.addEventListener("keyup", syncScroll);
  el.title.addEventListener("select", syncScroll);
  el.verdictWrong.addEventListener("click", verdictWrong);
  document.getElementById("question").addEventListener("submit", (ev) => ev.preventDefault());
  window.addEventListener("resize", autogrow);
  autogrow();
  if (el.title.value || el.body.value) schedule(); // restored form state after a reload
})();
