// askwell web editor: analyse the question as the person types.
//
// Rules this file keeps:
// - Every piece of user text or API text reaches the page through textContent or
//   createTextNode, never through innerHTML.
// - Only the response to the latest request is rendered: requests are debounced, the
//   previous one is aborted, and a response is dropped unless the text is unchanged.
// - Offsets from the API are Python str indices (code points); they are converted to
//   JavaScript (UTF-16) indices before touching a string.
// - A verdict is shown in bold only when nothing on screen says it is unreliable.
"use strict";

(() => {
  const DEBOUNCE_MS = 300;
  const WAIT_MS = 20000;        // how long "apply all" waits for one re-analysis
  const MAX_SAFE_FIXES = 12;    // "apply all" stops after this many edits
  const MAX_IGNORED = 1000;     // ignored suggestions remembered in this browser
  const IGNORE_KEY = "askwell.ignored.v1";
  const SITE_KEY = "askwell.site.v1";
  const API = { analyze: "v1/analyze", feedback: "v1/feedback", sites: "v1/sites" };
  const VERDICTS = {
    strong: "Strong",
    fine: "Fine",
    at_risk: "At risk",
    likely_closed: "Likely closed",
    not_ready: "Not ready",
  };
  // Colour-blind-safe (Okabe–Ito) colours live in app.css as .cat-<category>.
  const CATEGORIES = [
    ["clarity", "Clarity"],
    ["tone", "Tone"],
    ["formatting", "Formatting"],
    ["context", "Context"],
    ["expected_outcome", "Expected outcome"],
  ];
  const STATS = [
    ["flesch_reading_ease", "Reading ease (Flesch)", (v) => v.toFixed(0), true],
    ["flesch_kincaid_grade", "Grade level", (v) => v.toFixed(1), true],
    ["grade_level", "Grade level", (v) => v.toFixed(1), true],
    ["sentences", "Sentences", (v) => v.toFixed(0), false],
    ["words", "Words", (v) => v.toFixed(0), false],
    ["avg_word_length", "Average word length", (v) => v.toFixed(1), false],
    ["vocabulary_diversity", "Vocabulary diversity", (v) => `${Math.round(v * 100)}%`, false],
  ];

  const $ = (id) => document.getElementById(id);
  const el = {
    form: $("question"), title: $("title"), body: $("body"), tags: $("tags"),
    site: $("site"), siteRow: $("site-row"),
    titleHl: $("title-hl"), bodyHl: $("body-hl"), legend: $("legend"),
    panel: $("analysis"), status: $("status"), error: $("error"),
    scoreCard: $("score-card"), gauge: $("gauge"), gaugeFill: $("gauge-fill"), gaugeBase: $("gauge-base"),
    score: $("score"), verdict: $("verdict"), baseRate: $("base-rate"), percentile: $("percentile"),
    confidence: $("confidence"), delta: $("delta"), verdictWrong: $("verdict-wrong"),
    notReady: $("not-ready"), nrMessage: $("nr-message"), nrAdvice: $("nr-advice"),
    notices: $("notices"), applyAll: $("apply-all"), undo: $("undo"), actionStatus: $("action-status"),
    suggestions: $("suggestions"), noSuggestions: $("no-suggestions"), suggestionsHeading: $("suggestions-heading"),
    ignoredBar: $("ignored-bar"), ignoredCount: $("ignored-count"), ignoredToggle: $("ignored-toggle"),
    ignored: $("ignored"),
    stats: $("stats"), statsNote: $("stats-note"), model: $("model"), aboutData: $("about-data"),
    summary: $("summary"), sumScore: $("sum-score"), sumVerdict: $("sum-verdict"), sumJump: $("sum-jump"),
    card: $("hl-card"),
    previewTitle: $("preview-title"), previewText: $("preview-text"), previewTags: $("preview-tags"),
  };
  const FIELDS = { title: el.title, body: el.body };
  const LAYERS = { title: el.titleHl, body: el.bodyHl };

  const state = {
    timer: null,
    retryTimer: null,
    controller: null,
    seq: 0,
    current: null,   // {request, response, at}: the analysis on screen
    active: null,    // id of the suggestion being hovered / focused
    undo: [],        // [{title, body, tags, label}]: the text before each applied edit
    running: false,  // "apply all safe fixes" in progress
    waiters: [],     // [{q, resolve, reject, timer}]: promises of the analysis of q
    ignored: loadIgnored(),
    showIgnored: false,
    card: null,      // {field, ids, mode: "hover" | "caret" | "pin"}
    hideTimer: null,
    previewFrame: 0,
    moveFrame: 0,
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

  /** A 53-bit string hash (cyrb53): keys for remembered choices, never sent anywhere. */
  function hash(str, seed = 0) {
    let h1 = 0xdeadbeef ^ seed;
    let h2 = 0x41c6ce57 ^ seed;
    for (let i = 0; i < str.length; i += 1) {
      const ch = str.charCodeAt(i);
      h1 = Math.imul(h1 ^ ch, 2654435761);
      h2 = Math.imul(h2 ^ ch, 1597334677);
    }
    h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
    h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
    return (4294967296 * (2097151 & h2) + (h1 >>> 0)).toString(36);
  }

  const percent = (p) => `${Math.round(Math.max(0, Math.min(1, p)) * 100)}%`;
  // The site percentile as a writer reads it; the same wording as the CLI's
  // (askwell.explain.verdict.percentile_phrase): a rounded "better received than 0%" reads
  // wrong, so the ends are the bottom and the top 1%.
  const percentilePhrase = (value, where) => {
    const p = Math.max(0, Math.min(100, value));
    if (p < 1) return `In the bottom 1% of questions ${where}`;
    if (p >= 99) return `In the top 1% of questions ${where}`;
    return `Better received than ${Math.round(p)}% of questions ${where}`;
  };
  const pts = (p) => `${p >= 0 ? "+" : "−"}${Math.abs(p * 100).toFixed(1)} pts`;
  const plural = (n, one, many) => `${n} ${n === 1 ? one : many}`;
  const number = (n) => n.toLocaleString("en-US");
  const categoryName = (c) => (CATEGORIES.find(([k]) => k === c) || [c, String(c || "").replace(/_/g, " ")])[1];

  function parseTags(raw) {
    return raw.split(/[\s,]+/).map((t) => t.trim()).filter(Boolean);
  }

  function readQuestion() {
    const q = { title: el.title.value, body: el.body.value, tags: parseTags(el.tags.value) };
    if (!el.siteRow.hidden && el.site.value) q.site = el.site.value;
    return q;
  }

  function sameQuestion(a, b) {
    return a.title === b.title && a.body === b.body && a.tags.join("\n") === b.tags.join("\n")
      && (a.site || null) === (b.site || null);
  }

  /** True when the analysis on screen describes exactly what is in the editor now. */
  function isFresh() {
    return state.current !== null && sameQuestion(state.current.request, readQuestion());
  }

  function storage() {
    try {
      return window.localStorage;
    } catch {
      return null; // storage disabled: choices are kept for this page only
    }
  }

  // ---- ignored suggestions ("ignore this", remembered for this text) -------------------
  function loadIgnored() {
    try {
      const got = JSON.parse((storage() && storage().getItem(IGNORE_KEY)) || "[]");
      return new Set(Array.isArray(got) ? got.filter((k) => typeof k === "string") : []);
    } catch {
      return new Set();
    }
  }

  function saveIgnored() {
    const keys = Array.from(state.ignored).slice(-MAX_IGNORED);
    state.ignored = new Set(keys);
    try {
      if (storage()) storage().setItem(IGNORE_KEY, JSON.stringify(keys));
    } catch {
      // full or disabled storage: the choice still holds until the page is closed
    }
  }

  /** What an ignored suggestion is remembered by: its id and the text it is about (the
   * span with some context, or the whole question when it points at no place). */
  function ignoreKey(s, q) {
    const text = s.field === "title" ? q.title : s.field === "body" ? q.body : null;
    const range = text === null ? null : span(text, s);
    let about;
    if (range) {
      about = [s.field, text.slice(Math.max(0, range[0] - 24), range[0]), text.slice(range[0], range[1]),
        text.slice(range[1], range[1] + 24), s.replacement ?? ""].join("\u0000");
    } else {
      about = ["question", q.title, q.body].join("\u0000");
    }
    return hash(`${s.id}\u0000${about}`);
  }

  function isIgnored(s, q) {
    return state.ignored.has(ignoreKey(s, q));
  }

  function setIgnored(s, on) {
    if (!state.current) return;
    const key = ignoreKey(s, state.current.request);
    if (on) state.ignored.add(key);
    else state.ignored.delete(key);
    saveIgnored();
    hideCard();
    renderSuggestions();
    drawHighlights();
    renderSummary();
    say(on ? `Ignored: ${s.message}. It stays hidden for this text.` : `Showing again: ${s.message}.`);
  }

  /** The suggestions on screen, split into shown and ignored. */
  function partition() {
    if (!state.current) return { shown: [], ignored: [] };
    const q = state.current.request;
    const shown = [];
    const ignored = [];
    for (const s of state.current.response.suggestions || []) (isIgnored(s, q) ? ignored : shown).push(s);
    return { shown, ignored };
  }

  function isSafeFix(s, q) {
    const text = s.field === "title" ? q.title : s.field === "body" ? q.body : null;
    return s.mechanical === true && typeof s.replacement === "string" && text !== null && span(text, s) !== null;
  }

  // ---- messages for people ---------------------------------------------------------------
  function retryAfter(res) {
    const v = Number.parseInt(res && res.headers ? res.headers.get("Retry-After") || "" : "", 10);
    return Number.isFinite(v) && v > 0 ? Math.min(v, 60) : 2;
  }

  function errorMessage(status, payload, q, res) {
    const err = (payload && payload.error) || {};
    const msg = typeof err.message === "string" ? err.message : "";
    if (status === 413 || err.code === "too_large") {
      const chars = q ? Array.from(q.title).length + Array.from(q.body).length : 0;
      return `Your question is too long to analyse${chars ? ` (${number(chars)} characters)` : ""}. `
        + "A Stack Exchange question holds at most 30,000 characters: shorten it, or link to long "
        + "logs instead of pasting them.";
    }
    if (status === 429) {
      return `Too many analyses in a row. The next one starts by itself in ${plural(retryAfter(res), "second", "seconds")}.`;
    }
    if (status === 503) return "The model is still loading. The analysis starts by itself in a few seconds.";
    if (err.code === "invalid_request") {
      const d = Array.isArray(err.details) ? err.details[0] : null;
      const loc = d && Array.isArray(d.loc) ? d.loc.filter((p) => p !== "body") : [];
      if (loc[0] === "tags") return "Use at most 10 tags, each at most 64 characters.";
      if (loc[0] === "site") return "Pick a site from the list, or “Other / not listed”.";
      const what = d && typeof d.msg === "string" ? d.msg.replace(/^Value error, /, "") : "";
      return `This question can't be sent as it is${loc.length ? ` (the ${loc[0]}${what ? `: ${what}` : ""})` : ""}.`;
    }
    if (status === 422) return msg || "This question can't be analysed yet.";
    if (status >= 500) return msg || "The analysis failed on our side. Try again in a moment.";
    return msg || `The analysis failed (error ${status}). Try again in a moment.`;
  }

  function say(text) {
    el.actionStatus.textContent = text;
  }

  // ---- requests ------------------------------------------------------------------------
  /** The text changed (typed, applied, undone): old highlights, notices and errors go. */
  function onTextChanged({ byUser = false } = {}) {
    clearTimeout(state.timer);
    clearTimeout(state.retryTimer);
    if (state.controller) state.controller.abort(); // the text changed: that answer is stale
    if (byUser) {
      rejectWaiters("the text was edited");
      if (state.undo.length) { state.undo = []; syncTools(); }
    }
    hideCard();
    el.error.hidden = true;
    clear(el.notices);
    say("");
    drawHighlights();
    syncTools();
    schedulePreview();
    const q = readQuestion();
    if (!q.title.trim() && !q.body.trim()) {
      state.seq += 1; // nothing to analyse: forget any answer still on its way
      state.current = null;
      setBusy(false);
      el.panel.dataset.state = "empty";
      el.status.textContent = "Start writing to see how your question will be received.";
      renderSummary();
      drawHighlights();
      return;
    }
    el.panel.dataset.state = state.current ? "stale" : "empty";
    renderSummary();
    state.timer = setTimeout(() => analyze(q), DEBOUNCE_MS);
  }

  function analyzeNow() {
    clearTimeout(state.timer);
    return analyze(readQuestion());
  }

  function validPayload(p) {
    if (!p || typeof p !== "object") return false;
    if (p.verdict === "not_ready") return true;
    return typeof p.score === "number" && Number.isFinite(p.score);
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
    if (!res.ok || !validPayload(payload)) {
      showError(res.ok ? "The service sent an answer this page can't read. Try again in a moment."
        : errorMessage(res.status, payload, q, res));
      if (res.status === 429 || res.status === 503) {
        state.retryTimer = setTimeout(() => analyze(readQuestion()), retryAfter(res) * 1000);
      }
      return;
    }
    const previous = state.current;
    state.current = { request: q, response: payload, at: performance.now() };
    if (previous && previous.response.request_id) {
      const seconds = (state.current.at - previous.at) / 1000;
      sendFeedback(previous.response.request_id, "reanalyzed", { value: Math.round(seconds * 10) / 10 });
    }
    render(payload, previous ? previous.response : null);
    resolveWaiters();
  }

  /** A promise of the analysis of `q` (rejected when the text changes or it fails). */
  function analysisOf(q) {
    return new Promise((resolve, reject) => {
      const waiter = { q, resolve, reject };
      waiter.timer = setTimeout(() => {
        state.waiters = state.waiters.filter((w) => w !== waiter);
        reject(new Error("the analysis took too long"));
      }, WAIT_MS);
      state.waiters.push(waiter);
    });
  }

  function resolveWaiters() {
    const keep = [];
    for (const w of state.waiters) {
      if (state.current && sameQuestion(w.q, state.current.request)) {
        clearTimeout(w.timer);
        w.resolve(state.current);
      } else keep.push(w);
    }
    state.waiters = keep;
  }

  function rejectWaiters(why) {
    for (const w of state.waiters) {
      clearTimeout(w.timer);
      w.reject(new Error(why));
    }
    state.waiters = [];
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
        return { ok: false, message: res.status === 404
          ? "This analysis is no longer known to the service, so the feedback wasn't saved."
          : errorMessage(res.status, payload, null, res) };
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
    rejectWaiters(message);
    renderSummary();
  }

  // ---- what the analysis means for the page -------------------------------------------------
  /** The input checks' findings ({code, action, message, advice}); older payloads have none. */
  function findingsOf(r) {
    return Array.isArray(r.findings)
      ? r.findings.filter((f) => f && typeof f.message === "string" && f.message.trim()) : [];
  }

  const NOT_ENGLISH = new Set(["not_english", "non_english"]);

  function nonEnglish(r) {
    if (typeof r.language === "string" && r.language && !/^en\b/i.test(r.language)) return true;
    if (r.filter && NOT_ENGLISH.has(r.filter.reason)) return true;
    const codes = [].concat(findingsOf(r).map((f) => f.code), r.checks || []);
    if (codes.some((c) => NOT_ENGLISH.has(c))) return true;
    return (r.warnings || []).some((w) => /does not look like English/i.test(String(w)));
  }

  function filterUnsure(r) {
    return !!(r.filter && r.filter.outcome === "unsure");
  }

  /** How much the verdict can be trusted: "sure" (bold), "tentative" or "none" (no verdict). */
  function reliability(r) {
    if (r.verdict === "not_ready" || r.abstained) return "none";
    if (r.low_confidence || r.fallback || filterUnsure(r)) return "tentative";
    return "sure";
  }

  const sentence = (...parts) => parts.map((p) => String(p || "").trim()).filter(Boolean).join(" ");

  /** One notice per distinct thing to say: why there is no verdict (or why it is shaky)
   * once, then the other findings and warnings, each once. A warning that repeats a
   * finding, the filter's message or the not-ready box is not shown again. */
  function noticesFor(r) {
    const out = [];
    const said = [];
    const repeats = (t) => said.some((x) => x && (x === t || x.includes(t) || t.includes(x)));
    const add = (kind, text, ...also) => {
      const t = String(text || "").trim();
      if (!t || repeats(t)) return;
      said.push(t, ...also.map((a) => String(a || "").trim()).filter(Boolean));
      out.push({ kind, text: t });
    };
    const warnings = (r.warnings || []).map(String);
    const findings = findingsOf(r);
    const f = r.filter || {};
    if (r.verdict === "not_ready") {
      // the not-ready box says what is wrong and what to do
      said.push(...[f.message, f.advice].map((x) => String(x || "").trim()).filter(Boolean));
      for (const x of findings) if (x.action === "not_ready") said.push(x.message.trim());
    } else if (r.abstained) {
      const why = findings.filter((x) => x.action === "abstain");
      const text = why.length ? sentence(...why.map((x) => sentence(x.message, x.advice)))
        : warnings.find((w) => /no verdict/i.test(w))
          || "No verdict: the model can't judge this question reliably, so only the writing statistics and the surest fixes are shown.";
      add("abstained", text, ...why.map((x) => x.message), ...warnings.filter((w) => /no verdict/i.test(w)));
    } else if (filterUnsure(r)) {
      const own = findings.filter((x) => x.code === "filter_unsure");
      add("unsure", sentence(f.message, f.advice)
        || "This may not be a complete question yet, so the score is only a rough guide.",
      ...own.map((x) => x.message));
    } else if (r.low_confidence && !warnings.length && !findings.length) {
      add("low", "Low confidence: treat this score as a rough guide.");
    }
    if (r.fallback && !warnings.some((w) => /fallback/i.test(w))) {
      add("fallback", "Scored by the simple fallback model: the main model couldn't be used for this question.");
    }
    for (const x of findings) {
      if (x.action === "not_ready" || x.action === "abstain") continue;
      add("warning", sentence(x.message, x.advice), x.message);
    }
    for (const w of warnings) add(/fallback/i.test(w) ? "fallback" : "warning", w);
    return out;
  }

  // ---- rendering -----------------------------------------------------------------------
  function render(r, previous) {
    el.error.hidden = true;
    const rel = reliability(r);
    el.panel.dataset.state = r.verdict === "not_ready" ? "not_ready" : r.abstained ? "abstained" : "ready";
    el.panel.dataset.reliability = rel;
    renderScore(r, rel, previous);
    renderNotices(r);
    renderSuggestions();
    renderStats(r.stats || {}, nonEnglish(r));
    renderModel(r);
    renderSummary();
    drawHighlights();
    const n = partition().shown.length;
    if (r.verdict === "not_ready") {
      const f = r.filter || {};
      el.status.textContent = `Not ready to score yet${f.message ? `: ${f.message}` : "."}`;
    } else {
      const verdict = rel === "none" ? "no verdict" : `${VERDICTS[r.verdict] || r.verdict}${rel === "tentative" ? " (uncertain)" : ""}`;
      el.status.textContent = `Chance of a good reception ${percent(r.score)}, ${verdict}; ${plural(n, "suggestion", "suggestions")}.`;
    }
  }

  function siteName(r) {
    return r.site && r.site.known && r.site.name ? String(r.site.name) : null;
  }

  function renderScore(r, rel, previous) {
    const notReady = r.verdict === "not_ready";
    el.scoreCard.hidden = notReady;
    el.notReady.hidden = !notReady;
    el.verdict.dataset.reliability = rel;
    if (notReady) {
      const f = r.filter || {};
      el.nrMessage.textContent = f.message || "This doesn't read as a question someone could answer yet.";
      el.nrAdvice.textContent = f.advice || "Say what you are trying to do, what you tried and what happened.";
      el.gauge.setAttribute("aria-valuenow", "0");
      el.gauge.setAttribute("aria-valuetext", "not scored");
      el.gauge.dataset.verdict = "none";
      el.verdict.textContent = VERDICTS.not_ready;
      el.verdict.dataset.verdict = "not_ready";
      el.verdictWrong.hidden = false;
      el.verdictWrong.disabled = false;
      el.verdictWrong.textContent = "This verdict looks wrong";
      el.delta.textContent = "";
      return;
    }
    const score = Math.max(0, Math.min(1, r.score));
    const value = Math.round(score * 100);
    const verdictLabel = VERDICTS[r.verdict] || String(r.verdict);
    const shown = rel === "none" ? "No verdict" : rel === "tentative" ? `${verdictLabel} (uncertain)` : verdictLabel;
    el.gauge.dataset.verdict = rel === "none" ? "none" : r.verdict;
    el.gauge.setAttribute("aria-valuenow", String(value));
    el.gauge.setAttribute("aria-valuetext", `${value}% chance of a good reception, ${shown.toLowerCase()}`);
    el.gaugeFill.setAttribute("stroke-dasharray", `${score * 100} 100`);
    el.score.textContent = `${value}%`;
    el.verdict.textContent = shown;
    el.verdict.dataset.verdict = rel === "none" ? "none" : r.verdict;

    const site = r.site || null;
    const base = site && typeof site.base_rate === "number" && Number.isFinite(site.base_rate) ? site.base_rate : null;
    const name = siteName(r);
    if (base !== null) {
      const angle = (Math.max(0, Math.min(1, base)) - 0.5) * 180;
      el.gaugeBase.setAttribute("transform", `rotate(${angle.toFixed(1)} 100 100)`);
      el.gaugeBase.setAttribute("visibility", "visible");
      el.baseRate.textContent = name
        ? `On ${name}, ${percent(base)} of questions are well received`
        : `On the sites the model knows, ${percent(base)} of questions are well received`;
    } else {
      el.gaugeBase.setAttribute("visibility", "hidden");
      el.baseRate.textContent = "";
    }
    el.percentile.textContent = typeof r.percentile === "number" && Number.isFinite(r.percentile)
      ? percentilePhrase(r.percentile, `on ${name || "the sites the model knows"}`)
      : "";
    const conf = typeof r.confidence === "number" ? Math.round(r.confidence * 100) : null;
    el.confidence.textContent = rel === "none" || conf === null ? ""
      : `Confidence ${conf}%${rel === "tentative" ? " (low)" : ""}`;
    el.delta.textContent = "";
    el.delta.className = "delta";
    if (previous && typeof previous.score === "number") {
      const d = r.score - previous.score;
      if (Math.abs(d) >= 0.0005) {
        el.delta.textContent = `${d > 0 ? "▲" : "▼"} ${pts(d)} since the last analysis`;
        el.delta.classList.add(d > 0 ? "up" : "down");
      }
    }
    el.verdictWrong.hidden = rel === "none";
    el.verdictWrong.disabled = false;
    el.verdictWrong.textContent = "This verdict looks wrong";
  }

  function renderNotices(r) {
    clear(el.notices);
    for (const n of noticesFor(r)) el.notices.append(h("p", { class: `notice ${n.kind}`, text: n.text }));
  }

  function renderSummary() {
    const r = state.current ? state.current.response : null;
    el.summary.dataset.state = !r ? "empty" : isFresh() ? "ready" : "stale";
    if (!r) {
      el.sumScore.textContent = "—";
      el.sumVerdict.textContent = readQuestion().title.trim() || readQuestion().body.trim() ? "Analysing…" : "Start writing";
      el.sumVerdict.dataset.reliability = "none";
      el.sumJump.textContent = "Suggestions";
      return;
    }
    const rel = reliability(r);
    el.sumVerdict.dataset.reliability = rel;
    el.sumVerdict.dataset.verdict = r.verdict;
    if (r.verdict === "not_ready") {
      el.sumScore.textContent = "—";
      el.sumVerdict.textContent = "Not ready to score";
    } else {
      el.sumScore.textContent = percent(r.score);
      const base = r.site && typeof r.site.base_rate === "number" ? ` · site average ${percent(r.site.base_rate)}` : "";
      el.sumVerdict.textContent = `${rel === "none" ? "No verdict" : VERDICTS[r.verdict] || r.verdict}${rel === "tentative" ? " (uncertain)" : ""}${base}`;
    }
    const n = partition().shown.length;
    el.sumJump.textContent = `${plural(n, "suggestion", "suggestions")} ↓`;
  }

  const MAX_EDIT_CHARS = 160; // a longer edit is shown as the words it changes

  /** The words an edit changes, when it keeps the word count (case, punctuation): up to
   * `limit` [old, new] pairs and how many there are in all; null otherwise. */
  function changedWords(old, replacement, limit = 4) {
    const a = old.split(/(\s+)/);
    const b = replacement.split(/(\s+)/);
    if (a.length !== b.length) return null;
    const pairs = [];
    let total = 0;
    for (let i = 0; i < a.length; i += 1) {
      if (a[i] === b[i]) continue;
      total += 1;
      if (pairs.length < limit) pairs.push([a[i], b[i]]);
    }
    return total ? { pairs, total } : null;
  }

  function clip(t) {
    return t.length <= MAX_EDIT_CHARS ? t : `${t.slice(0, 100)} … ${t.slice(-40)}`;
  }

  function describeEdit(s, text) {
    const range = text === null ? null : span(text, s);
    if (!range || typeof s.replacement !== "string") return null;
    const old = text.slice(range[0], range[1]);
    if (!old && !s.replacement) return null;
    // line breaks at either end are part of the edit but only add blank lines here
    const shown = (t) => (t.trim() ? clip(t.replace(/^\n+|\n+$/g, ""))
      : t.includes("\n") ? "a line break" : t ? "a space" : "");
    if (old.length + s.replacement.length > 2 * MAX_EDIT_CHARS) {
      const words = changedWords(old, s.replacement);
      if (words) {
        const parts = [];
        words.pairs.forEach(([o, n], i) => {
          if (i) parts.push(", ");
          parts.push(h("del", { text: o }), " → ", h("ins", { text: n }));
        });
        const more = words.total - words.pairs.length;
        return h("p", { class: "edit" }, "Change ", ...parts, more > 0 ? ` and ${more} more` : "");
      }
    }
    const parts = [];
    if (old) parts.push(h("del", { text: shown(old) }));
    if (old && s.replacement) parts.push(" → ");
    if (s.replacement) parts.push(h("ins", { text: shown(s.replacement) }));
    const label = !old ? "Insert " : !s.replacement ? "Remove " : "Change ";
    return h("p", { class: "edit" }, label, ...parts);
  }

  function fieldText(field) {
    if (!state.current) return null;
    if (field === "title") return state.current.request.title;
    if (field === "body") return state.current.request.body;
    return null;
  }

  function feedbackButtons(r, s) {
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
    return [fbButton("helpful", "Helpful"), fbButton("not_helpful", "Not helpful"), status];
  }

  function suggestionCard(r, s, i) {
    const text = fieldText(s.field);
    const range = text === null ? null : span(text, s);
    const canApply = range !== null && typeof s.replacement === "string";
    const cat = s.category || "clarity";
    return h("li", {
        class: `suggestion cat-${cat} sev-${s.severity || "low"}`, "data-id": s.id, id: `card-${s.id}`,
        tabindex: "-1", "aria-label": `Suggestion ${i + 1}: ${s.message}`,
        onmouseenter: () => setActive(s.id), onmouseleave: () => setActive(null),
        onfocusin: () => setActive(s.id), onfocusout: () => setActive(null),
      },
      h("div", { class: "s-head" },
        h("span", { class: "rank", text: String(i + 1), "aria-hidden": "true" }),
        h("p", { class: "message", text: s.message }),
        h("span", { class: "gain", text: pts(s.gain || 0), title: "Expected rise in the chance of a good reception" })),
      h("p", { class: "meta" },
        h("span", { class: "tag cat" }, h("span", { class: "swatch", "aria-hidden": "true" }), categoryName(cat)),
        h("span", { class: "tag sev", text: `${s.severity || "low"} impact` }),
        s.mechanical ? h("span", { class: "tag safe", text: "safe fix", title: "A mechanical edit: it changes only the text it names" }) : null,
        s.field === "title" || s.field === "body" ? h("span", { class: "where", text: `in the ${s.field}` }) : null,
        s.detail ? h("span", { class: "detail", text: s.detail }) : null),
      describeEdit(s, text),
      h("div", { class: "actions" },
        canApply ? h("button", {
          type: "button", class: "apply", text: "Apply", "aria-label": `Apply: ${s.message}`,
          onclick: () => apply(s),
        }) : null,
        range !== null ? h("button", {
          type: "button", class: "show", text: "Show in text", "aria-label": `Show in text: ${s.message}`,
          onclick: () => showInText(s),
        }) : null,
        h("button", {
          type: "button", class: "ignore", text: "Ignore", "aria-label": `Ignore: ${s.message}`,
          onclick: () => setIgnored(s, true),
        }),
        ...feedbackButtons(r, s)));
  }

  function renderSuggestions() {
    clear(el.suggestions);
    clear(el.ignored);
    state.active = null;
    if (!state.current) return;
    const r = state.current.response;
    const { shown, ignored } = partition();
    el.noSuggestions.hidden = shown.length > 0;
    el.noSuggestions.textContent = r.verdict === "not_ready"
      ? "Suggestions come once this reads as a question."
      : ignored.length ? "Nothing else to suggest." : "Nothing to suggest: the model sees no edit that would help.";
    shown.forEach((s, i) => el.suggestions.append(suggestionCard(r, s, i)));
    el.ignoredBar.hidden = ignored.length === 0;
    el.ignoredCount.textContent = `${plural(ignored.length, "suggestion", "suggestions")} ignored for this text.`;
    el.ignored.hidden = !state.showIgnored || ignored.length === 0;
    el.ignoredToggle.setAttribute("aria-expanded", String(state.showIgnored));
    el.ignoredToggle.textContent = state.showIgnored ? "Hide them" : "Show them";
    for (const s of ignored) {
      el.ignored.append(h("li", { class: `suggestion ignored cat-${s.category || "clarity"}`, "data-id": s.id },
        h("div", { class: "s-head" }, h("p", { class: "message", text: s.message })),
        h("div", { class: "actions" }, h("button", {
          type: "button", class: "unignore", text: "Stop ignoring", "aria-label": `Stop ignoring: ${s.message}`,
          onclick: () => setIgnored(s, false),
        }))));
    }
    syncTools();
  }

  function renderStats(stats, hideEnglish) {
    clear(el.stats);
    const seen = new Set();
    let hidden = 0;
    for (const [key, label, fmt, english] of STATS) {
      if (typeof stats[key] !== "number" || seen.has(label)) continue;
      seen.add(label);
      if (english && hideEnglish) { hidden += 1; continue; }
      el.stats.append(h("div", {}, h("dt", { text: label }), h("dd", { text: fmt(stats[key]) })));
    }
    for (const [key, v] of Object.entries(stats)) {
      if (STATS.some(([k]) => k === key) || typeof v !== "number") continue;
      el.stats.append(h("div", {}, h("dt", { text: key.replace(/_/g, " ") }), h("dd", { text: String(v) })));
    }
    el.statsNote.hidden = hidden === 0;
  }

  function renderModel(r) {
    const m = r.model || {};
    const bits = [];
    if (m.name) bits.push(`Model ${m.name}${m.version ? ` (version ${m.version})` : ""}`);
    if (m.dataset_id) bits.push(`data ${String(m.dataset_id).slice(0, 8)}`);
    if (r.filter && r.filter.model) bits.push(`filter ${r.filter.model}`);
    if (typeof r.latency_ms === "number") bits.push(`${r.latency_ms.toFixed(0)} ms${r.cached ? " (cached)" : ""}`);
    el.model.textContent = bits.join(" · ");
  }

  function renderLegend(counts) {
    clear(el.legend);
    for (const [cat, name] of CATEGORIES) {
      const n = counts[cat] || 0;
      el.legend.append(h("li", { class: `cat-${cat}${n ? "" : " none"}`, "data-category": cat },
        h("span", { class: "swatch", "aria-hidden": "true" }), name,
        n ? h("span", { class: "count", text: ` ${n}` }) : null));
    }
    el.legend.append(h("li", { class: "insert-key" }, h("span", { class: "insert-swatch", "aria-hidden": "true" }),
      "insert here"));
  }

  // ---- highlights ----------------------------------------------------------------------
  function setActive(id) {
    state.active = id;
    for (const m of document.querySelectorAll(".hl mark")) m.classList.toggle("active", m.dataset.id === id);
  }

  /** Split spans into lanes so that no two spans in a lane overlap: every one is drawn. */
  function lanesOf(spans) {
    const lanes = [];
    for (const item of spans) {
      const [start] = item.range;
      let lane = lanes.find((l) => l.end <= start);
      if (!lane) {
        lane = { end: 0, items: [] };
        lanes.push(lane);
      }
      lane.items.push(item);
      lane.end = Math.max(lane.end, item.range[1]);
    }
    return lanes;
  }

  function drawLane(layer, text, items, field, index) {
    clear(layer);
    let pos = 0;
    for (const { s, range } of items) {
      const [start, end] = range;
      if (start > pos) layer.append(document.createTextNode(text.slice(pos, start)));
      const insert = start === end;
      const mark = h("mark", {
        class: `cat-${s.category || "clarity"} sev-${s.severity || "low"}${insert ? " insert" : ""}`,
        "data-id": s.id, "data-lane": String(index),
      });
      if (insert) {
        const what = String(s.replacement || "").replace(/\n/g, "⏎").trim() || "·";
        mark.dataset.insert = `+${what.length > 6 ? `${what.slice(0, 5)}…` : what}`;
      }
      mark.textContent = text.slice(start, end);
      if (s.id === state.active) mark.classList.add("active");
      layer.append(mark);
      pos = end;
    }
    // A trailing space keeps a final empty line the same height as in the textarea.
    layer.append(document.createTextNode(text.slice(pos) + (field === "body" ? " " : "")));
  }

  function drawHighlights() {
    const counts = {};
    const fresh = isFresh();
    const shown = fresh ? partition().shown : [];
    for (const field of ["title", "body"]) {
      const layer = LAYERS[field];
      const backdrop = layer.parentElement;
      for (const extra of backdrop.querySelectorAll(".hl.lane")) extra.remove();
      const text = FIELDS[field].value;
      const spans = [];
      for (const s of shown) {
        if (s.field !== field) continue;
        const range = span(text, s);
        if (range) spans.push({ s, range });
      }
      spans.sort((a, b) => a.range[0] - b.range[0] || (b.range[1] - b.range[0]) - (a.range[1] - a.range[0]));
      for (const { s } of spans) counts[s.category] = (counts[s.category] || 0) + 1;
      const lanes = lanesOf(spans);
      drawLane(layer, text, lanes.length ? lanes[0].items : [], field, 0);
      lanes.slice(1).forEach((lane, i) => {
        const extra = h("div", { class: `hl lane lane-${Math.min(i + 1, 3)}` });
        drawLane(extra, text, lane.items, field, i + 1);
        backdrop.append(extra);
      });
    }
    renderLegend(counts);
    syncScroll();
  }

  function syncScroll() {
    el.titleHl.parentElement.scrollLeft = el.title.scrollLeft;
    el.bodyHl.parentElement.scrollTop = el.body.scrollTop;
  }

  function syncTools() {
    const fresh = isFresh();
    for (const b of document.querySelectorAll("button.apply")) {
      b.disabled = !fresh || state.running;
      b.title = fresh ? "" : "Wait for the analysis of your latest edit";
    }
    const q = state.current ? state.current.request : null;
    const safe = fresh && q ? partition().shown.filter((s) => isSafeFix(s, q)).length : 0;
    el.applyAll.disabled = state.running || safe === 0;
    el.applyAll.textContent = state.running ? "Applying safe fixes…" : safe ? `Apply all safe fixes (${safe})` : "Apply all safe fixes";
    el.undo.disabled = state.running || state.undo.length === 0;
    const last = state.undo[state.undo.length - 1];
    el.undo.setAttribute("aria-label", last ? `Undo: ${last.label}` : "Undo");
    el.undo.title = last ? `Undo: ${last.label}` : "Nothing to undo";
  }

  // ---- the highlight's card (hover, caret, click) ------------------------------------------
  function marksAt(field, x, y) {
    const ids = [];
    const backdrop = LAYERS[field].parentElement;
    for (const m of backdrop.querySelectorAll("mark")) {
      const pad = m.classList.contains("insert") ? 6 : 0;
      for (const r of m.getClientRects()) {
        if (x >= r.left - pad && x <= r.right + pad && y >= r.top && y <= r.bottom) {
          if (!ids.includes(m.dataset.id)) ids.push(m.dataset.id);
          break;
        }
      }
    }
    return ids;
  }

  function idsAtCaret(field) {
    if (!isFresh()) return [];
    const input = FIELDS[field];
    if (input.selectionStart !== input.selectionEnd) return [];
    const pos = input.selectionStart;
    const ids = [];
    for (const s of partition().shown) {
      if (s.field !== field) continue;
      const range = span(input.value, s);
      if (!range) continue;
      const [start, end] = range;
      if (start === end ? pos === start : pos >= start && pos <= end) ids.push(s.id);
    }
    return ids;
  }

  function suggestionById(id) {
    return ((state.current && state.current.response.suggestions) || []).find((s) => s.id === id) || null;
  }

  function anchorRect(field, ids) {
    const rects = [];
    for (const m of LAYERS[field].parentElement.querySelectorAll("mark")) {
      if (ids.includes(m.dataset.id)) rects.push(...m.getClientRects());
    }
    if (!rects.length) return FIELDS[field].getBoundingClientRect();
    return rects[0];
  }

  function showCard(field, ids, mode) {
    if (!ids.length || !isFresh()) { hideCard(); return; }
    clearTimeout(state.hideTimer);
    const same = state.card && state.card.field === field && state.card.ids.join() === ids.join();
    if (same && !el.card.hidden) {
      if (mode === "pin" || state.card.mode === "hover") state.card.mode = mode;
      return;
    }
    state.card = { field, ids, mode };
    clear(el.card);
    ids.forEach((id) => {
      const s = suggestionById(id);
      if (!s) return;
      const text = fieldText(s.field);
      el.card.append(h("div", { class: `hc-item cat-${s.category || "clarity"}`, "data-id": s.id },
        h("p", { class: "hc-head" },
          h("span", { class: "tag cat" }, h("span", { class: "swatch", "aria-hidden": "true" }), categoryName(s.category)),
          h("span", { class: "gain", text: pts(s.gain || 0) })),
        h("p", { class: "hc-message", id: `hc-msg-${s.id}`, text: s.message }),
        describeEdit(s, text),
        h("div", { class: "actions" },
          typeof s.replacement === "string" && span(FIELDS[s.field].value, s)
            ? h("button", { type: "button", class: "apply", text: "Apply", "aria-label": `Apply: ${s.message}`,
              onclick: () => apply(s) }) : null,
          h("button", { type: "button", class: "ignore", text: "Ignore", "aria-label": `Ignore: ${s.message}`,
            onclick: () => setIgnored(s, true) }),
          h("button", { type: "button", class: "goto link", text: "See in the list",
            onclick: () => jumpToCard(s.id, true) }))));
    });
    el.card.hidden = false;
    positionCard(anchorRect(field, ids));
    setActive(ids[0]);
    const input = FIELDS[field];
    input.setAttribute("aria-describedby", `${field}-help ${ids.map((id) => `hc-msg-${id}`).join(" ")}`);
  }

  function positionCard(rect) {
    const width = Math.min(340, window.innerWidth - 16);
    el.card.style.width = `${width}px`;
    const left = Math.max(8, Math.min(rect.left, window.innerWidth - width - 8));
    el.card.style.left = `${left + window.scrollX}px`;
    el.card.style.top = `${rect.bottom + window.scrollY + 6}px`;
  }

  function hideCard() {
    clearTimeout(state.hideTimer);
    if (state.card) {
      FIELDS[state.card.field].setAttribute("aria-describedby", `${state.card.field}-help`);
    }
    state.card = null;
    el.card.hidden = true;
    clear(el.card);
  }

  function hideCardSoon(mode) {
    if (!state.card || state.card.mode !== mode) return;
    clearTimeout(state.hideTimer);
    state.hideTimer = setTimeout(() => {
      if (state.card && state.card.mode === mode && !el.card.matches(":hover")) hideCard();
    }, 250);
  }

  /** Scroll the suggestion's card in the list into view and mark it; optionally focus it. */
  function jumpToCard(id, focus) {
    const card = document.getElementById(`card-${id}`);
    if (!card) return;
    for (const c of el.suggestions.querySelectorAll(".flash")) c.classList.remove("flash");
    card.classList.add("flash");
    if (focus) {
      hideCard();
      card.focus({ preventScroll: true });
    }
    card.scrollIntoView({ block: "nearest", behavior: "auto" });
  }

  /** From a card back to its place in the text: focus the field and select the span. */
  function showInText(s) {
    const input = FIELDS[s.field];
    const range = input ? span(input.value, s) : null;
    if (!range || !isFresh()) return;
    input.focus({ preventScroll: true });
    input.setSelectionRange(range[0], range[1]);
    input.scrollIntoView({ block: "nearest" });
    syncScroll();
    setActive(s.id);
    showCard(s.field, [s.id], "caret");
  }

  function onPointerMove(field, ev) {
    if (state.moveFrame) return;
    const { clientX: x, clientY: y } = ev;
    state.moveFrame = requestAnimationFrame(() => {
      state.moveFrame = 0;
      const ids = isFresh() ? marksAt(field, x, y) : [];
      if (ids.length) {
        if (!state.card || state.card.mode === "hover" || state.card.field !== field) showCard(field, ids, "hover");
      } else {
        hideCardSoon("hover");
      }
    });
  }

  function onPointerUp(field, ev) {
    const input = FIELDS[field];
    if (input.selectionStart !== input.selectionEnd) return;
    const ids = isFresh() ? marksAt(field, ev.clientX, ev.clientY) : [];
    if (!ids.length) { hideCard(); return; }
    showCard(field, ids, "pin");
    // A tap on a phone places the caret: the card opens, the page stays where it is
    // (the card's "See in the list" jumps). A click with a mouse also shows the list card.
    if (ev.pointerType !== "touch") jumpToCard(ids[0], false);
  }

  const NAV_KEYS = new Set(["ArrowLeft", "ArrowRight", "ArrowUp", "ArrowDown", "Home", "End", "PageUp", "PageDown"]);

  /** Alt+ArrowDown in a field moves the focus into the open card (Escape comes back). */
  function onKeyDown(field, ev) {
    if (ev.key !== "ArrowDown" || !ev.altKey) return;
    if (!state.card || state.card.field !== field) {
      const ids = idsAtCaret(field);
      if (!ids.length) return;
      showCard(field, ids, "caret");
    }
    const first = el.card.querySelector("button");
    if (first) {
      ev.preventDefault();
      state.card.mode = "pin";
      first.focus();
    }
  }

  function onKeyUp(field, ev) {
    if (field === "title") syncScroll();
    if (!NAV_KEYS.has(ev.key)) return;
    const ids = idsAtCaret(field);
    if (ids.length) showCard(field, ids, "caret");
    else if (state.card) hideCard();
  }

  // ---- actions -------------------------------------------------------------------------
  function snapshot(label) {
    state.undo.push({ title: el.title.value, body: el.body.value, tags: el.tags.value, label });
    if (state.undo.length > 50) state.undo.shift();
  }

  /** Make the suggestion's edit; returns the question as it is now, or null. */
  function applyEdit(s, { focus = true } = {}) {
    if (!isFresh()) return null; // offsets describe older text
    const input = FIELDS[s.field];
    if (!input || typeof s.replacement !== "string") return null;
    const range = span(input.value, s);
    if (!range) return null;
    const r = state.current.response;
    const [start, end] = range;
    snapshot(s.message);
    input.value = input.value.slice(0, start) + s.replacement + input.value.slice(end);
    sendFeedback(r.request_id, "applied", { suggestion_id: s.id });
    if (focus) {
      const caret = start + s.replacement.length;
      input.focus();
      input.setSelectionRange(caret, caret);
    }
    autogrow();
    onTextChanged();
    return readQuestion();
  }

  function apply(s) {
    hideCard();
    if (applyEdit(s)) say(`Applied: ${s.message}. Undo puts the text back.`);
  }

  function undo() {
    const last = state.undo.pop();
    if (!last || state.running) return;
    el.title.value = last.title;
    el.body.value = last.body;
    el.tags.value = last.tags;
    autogrow();
    onTextChanged();
    say(`Undone: ${last.label}.`);
    syncTools();
  }

  /** Apply the mechanical fixes one at a time, best first, analysing the text again after
   * each one (an edit moves the offsets of the others, and may make them unnecessary). */
  async function applyAll() {
    if (state.running) return;
    state.running = true;
    hideCard();
    syncTools();
    const done = [];
    const tried = new Set();
    let stopped = null;
    try {
      for (let step = 0; step < MAX_SAFE_FIXES; step += 1) {
        if (!isFresh()) {
          const wait = analysisOf(readQuestion());
          analyzeNow();
          await wait;
        }
        const q = state.current.request;
        const next = partition().shown.find((s) => isSafeFix(s, q) && !tried.has(ignoreKey(s, q)));
        if (!next) break;
        tried.add(ignoreKey(next, q));
        const edited = applyEdit(next, { focus: false });
        if (!edited) break;
        done.push(next.message);
        say(`Applying safe fixes: ${done.length} done…`);
        const wait = analysisOf(edited);
        analyzeNow();
        await wait;
      }
    } catch (err) {
      stopped = err && err.message ? err.message : "it was interrupted";
    } finally {
      state.running = false;
      syncTools();
    }
    if (!done.length) say(stopped ? `No fix applied: ${stopped}.` : "No safe fixes to apply.");
    else {
      say(`Applied ${plural(done.length, "safe fix", "safe fixes")}: ${done.join("; ")}.`
        + `${stopped ? ` Stopped early: ${stopped}.` : ""} Undo takes them back one at a time.`);
    }
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

  // ---- preview -------------------------------------------------------------------------
  function schedulePreview() {
    if (state.previewFrame) return;
    state.previewFrame = requestAnimationFrame(() => {
      state.previewFrame = 0;
      renderPreview();
    });
  }

  function renderPreview() {
    el.previewTitle.textContent = el.title.value.trim() || "Your title";
    el.previewTitle.classList.toggle("placeholder", !el.title.value.trim());
    if (window.askwellMarkdown) window.askwellMarkdown.render(el.body.value, el.previewText);
    else el.previewText.textContent = el.body.value;
    clear(el.previewTags);
    for (const t of parseTags(el.tags.value)) el.previewTags.append(h("li", { text: t.toLowerCase() }));
  }

  // ---- sites ---------------------------------------------------------------------------
  async function loadSites() {
    let data;
    try {
      const res = await fetch(API.sites, { headers: { Accept: "application/json" } });
      if (!res.ok) return; // an older service: no picker, the score is not site-relative
      data = await res.json();
    } catch {
      return;
    }
    const sites = data && Array.isArray(data.sites)
      ? data.sites.filter((s) => s && typeof s.name === "string" && s.name) : [];
    if (!sites.length) return;
    const groups = { main: [], meta: [] };
    for (const s of sites) (s.kind === "meta" ? groups.meta : groups.main).push(s);
    for (const [kind, label] of [["main", "Sites"], ["meta", "Meta sites"]]) {
      if (!groups[kind].length) continue;
      const group = h("optgroup", { label });
      for (const s of groups[kind].sort((a, b) => a.name.localeCompare(b.name))) {
        group.append(h("option", { value: s.name, text: s.name }));
      }
      el.site.append(group);
    }
    let saved = null;
    try { saved = storage() && storage().getItem(SITE_KEY); } catch { saved = null; }
    if (saved && sites.some((s) => s.name === saved)) el.site.value = saved;
    el.siteRow.hidden = false;
    const questions = sites.reduce((n, s) => n + (Number.isFinite(s.questions) ? s.questions : 0), 0);
    const main = groups.main.length;
    el.aboutData.textContent = questions
      ? `The model serving you learned from ${number(questions)} questions on ${plural(main, "site", "sites")}${groups.meta.length ? ` and ${groups.meta.length} meta sites` : ""}; pick yours above.`
      : "";
    if (readQuestion().site) onTextChanged();
  }

  function onSiteChange() {
    try {
      if (storage()) storage().setItem(SITE_KEY, el.site.value);
    } catch {
      // not remembered: fine
    }
    onTextChanged({ byUser: true });
  }

  // ---- wiring --------------------------------------------------------------------------
  for (const input of [el.title, el.body, el.tags]) {
    input.addEventListener("input", () => onTextChanged({ byUser: true }));
  }
  for (const [field, input] of Object.entries(FIELDS)) {
    input.addEventListener("mousemove", (ev) => onPointerMove(field, ev));
    input.addEventListener("mouseleave", () => hideCardSoon("hover"));
    input.addEventListener("pointerup", (ev) => onPointerUp(field, ev));
    input.addEventListener("keyup", (ev) => onKeyUp(field, ev));
    input.addEventListener("keydown", (ev) => onKeyDown(field, ev));
    input.addEventListener("scroll", () => { syncScroll(); hideCard(); });
    input.addEventListener("blur", () => {
      setTimeout(() => {
        if (state.card && state.card.mode === "caret" && !el.card.contains(document.activeElement)) hideCard();
      }, 0);
    });
  }
  el.card.addEventListener("mouseleave", () => hideCardSoon("hover"));
  document.addEventListener("keydown", (ev) => {
    if (ev.key === "Escape" && state.card) {
      const field = state.card.field;
      const inCard = el.card.contains(document.activeElement);
      hideCard();
      if (inCard) FIELDS[field].focus();
    }
  });
  document.addEventListener("mousedown", (ev) => {
    if (!state.card || el.card.contains(ev.target) || Object.values(FIELDS).includes(ev.target)) return;
    hideCard();
  });
  el.body.addEventListener("input", autogrow);
  el.title.addEventListener("select", syncScroll);
  el.site.addEventListener("change", onSiteChange);
  el.verdictWrong.addEventListener("click", verdictWrong);
  el.applyAll.addEventListener("click", applyAll);
  el.undo.addEventListener("click", undo);
  el.ignoredToggle.addEventListener("click", () => {
    state.showIgnored = !state.showIgnored;
    renderSuggestions();
  });
  el.sumJump.addEventListener("click", () => {
    el.suggestionsHeading.scrollIntoView({ block: "start" });
    el.suggestionsHeading.focus({ preventScroll: true });
  });
  el.form.addEventListener("submit", (ev) => ev.preventDefault());
  window.addEventListener("resize", () => { autogrow(); hideCard(); });
  autogrow();
  renderLegend({});
  renderPreview();
  renderSummary();
  loadSites();
  if (el.title.value || el.body.value) onTextChanged(); // restored form state after a reload
})();
