// askwell's Markdown preview: a small renderer for the Markdown a Stack Exchange question
// uses (paragraphs, headings, emphasis, code spans and blocks, fenced code, quotes, lists,
// links, rules), written here so the page needs no third-party script.
//
// Safety by construction: it builds DOM nodes with createElement and createTextNode and
// never parses HTML, so markup in the text is shown as text and nothing is executed.
// Links keep only http(s) and mailto targets; images are shown as a placeholder (the page
// loads nothing from other hosts).
"use strict";

(() => {
  const MAX_DEPTH = 8; // deeper quotes / lists are shown as plain paragraphs
  const MAX_INLINE_DEPTH = 16; // deeper emphasis is shown as text
  const MAX_LINK_TEXT = 400; // how far a "[" looks for its "]" (keeps long lines linear)
  const MAX_EMPHASIS = 1000; // how far a "*" looks for its closing "*"
  const PUNCT = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";
  const SAFE_URL = /^(https?:\/\/|mailto:)/i;

  const FENCE = /^( {0,3})(`{3,}|~{3,})([^`]*)$/;
  const HEADING = /^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$/;
  const RULE = /^ {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$/;
  const QUOTE = /^ {0,3}> ?/;
  const ITEM = /^( {0,3})([-*+]|\d{1,9}[.)])([ \t]+|$)(.*)$/;
  const INDENTED = /^( {4}|\t)/;
  const BLANK = /^[ \t]*$/;

  function el(tag, cls) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    return node;
  }

  // ---- inline ------------------------------------------------------------------------
  function linkNode(label, url, image, depth) {
    const target = url.trim();
    if (image) {
      const ph = el("span", "md-image");
      ph.textContent = `[image: ${label || target}]`;
      return ph;
    }
    if (!SAFE_URL.test(target)) {
      const span = el("span");
      inline(label, span, depth + 1, false);
      return span;
    }
    const a = el("a");
    a.href = target;
    a.rel = "nofollow noopener noreferrer";
    a.target = "_blank";
    if (!label || label === target) a.textContent = target; // an autolink: its URL, as text
    else inline(label, a, depth + 1, false); // no link inside a link
    return a;
  }

  /** The closing index of `[` at i (nesting allowed, code spans skipped), or -1. */
  function closeBracket(text, i) {
    let depth = 0;
    const stop = Math.min(text.length, i + MAX_LINK_TEXT);
    for (let j = i; j < stop; j += 1) {
      const c = text[j];
      if (c === "\\") { j += 1; continue; }
      if (c === "`") {
        const end = text.indexOf("`", j + 1);
        if (end < 0) return -1;
        j = end;
        continue;
      }
      if (c === "[") depth += 1;
      else if (c === "]") { depth -= 1; if (depth === 0) return j; }
    }
    return -1;
  }

  /** [url, index after ")"] of a link destination starting at "(" at i, or null. */
  function destination(text, i) {
    if (text[i] !== "(") return null;
    const m = /^\(\s*(<[^<>\n]*>|[^\s()]*(?:\([^\s()]*\)[^\s()]*)*)(?:\s+("[^"]*"|'[^']*'|\([^)]*\)))?\s*\)/.exec(text.slice(i));
    if (!m) return null;
    let url = m[1];
    if (url.startsWith("<")) url = url.slice(1, -1);
    return [url, i + m[0].length];
  }

  function emphasisClose(text, i, run) {
    const ch = run[0];
    let from = i + run.length;
    if (from >= text.length || /\s/.test(text[from])) return -1;
    const stop = i + MAX_EMPHASIS;
    while (true) {
      const j = text.indexOf(run, from);
      if (j < 0 || j > stop) return -1;
      const before = text[j - 1];
      const after = text[j + run.length];
      const ok = j > i + run.length && !/\s/.test(before) && text[j + run.length] !== ch
        && (ch !== "_" || after === undefined || !/[\p{L}\p{N}]/u.test(after));
      if (ok) return j;
      from = j + 1;
    }
  }

  /** Append the inline content of `text` to `parent` (`links`: false inside a link). */
  function inline(text, parent, depth = 0, links = true) {
    if (depth > MAX_INLINE_DEPTH) {
      parent.append(document.createTextNode(text));
      return;
    }
    let buf = "";
    const flush = () => {
      if (buf) parent.append(document.createTextNode(buf));
      buf = "";
    };
    let i = 0;
    while (i < text.length) {
      const c = text[i];
      if (c === "\\" && i + 1 < text.length && PUNCT.includes(text[i + 1])) {
        buf += text[i + 1];
        i += 2;
        continue;
      }
      if (c === "\\" && text[i + 1] === "\n") {
        flush();
        parent.append(el("br"));
        i += 2;
        continue;
      }
      if (c === "\n") {
        if (/ {2,}$/.test(buf)) {
          buf = buf.replace(/ +$/, "");
          flush();
          parent.append(el("br"));
        } else {
          buf = buf.replace(/ +$/, "") + "\n";
        }
        i += 1;
        continue;
      }
      if (c === "`") {
        let n = 1;
        while (text[i + n] === "`") n += 1;
        const run = "`".repeat(n);
        let j = text.indexOf(run, i + n);
        while (j >= 0 && text[j + n] === "`") {
          let k = j;
          while (text[k] === "`") k += 1;
          j = text.indexOf(run, k);
        }
        if (j < 0) {
          buf += run;
          i += n;
          continue;
        }
        let code = text.slice(i + n, j).replace(/\n/g, " ");
        if (code.length > 1 && code.startsWith(" ") && code.endsWith(" ") && code.trim()) code = code.slice(1, -1);
        flush();
        const node = el("code");
        node.textContent = code;
        parent.append(node);
        i = j + n;
        continue;
      }
      if (links && (c === "[" || (c === "!" && text[i + 1] === "["))) {
        const open = c === "!" ? i + 1 : i;
        const close = closeBracket(text, open);
        const dest = close > 0 ? destination(text, close + 1) : null;
        if (dest) {
          flush();
          parent.append(linkNode(text.slice(open + 1, close), dest[0], c === "!", depth));
          i = dest[1];
          continue;
        }
      }
      if (links && c === "<") {
        const m = /^<((?:https?:\/\/|mailto:)[^\s<>]+)>/i.exec(text.slice(i));
        if (m) {
          flush();
          parent.append(linkNode(m[1], m[1], false, depth));
          i += m[0].length;
          continue;
        }
      }
      if (links && (c === "h" || c === "H") && (i === 0 || /[\s(]/.test(text[i - 1]))) {
        const m = /^https?:\/\/[^\s<>]+/i.exec(text.slice(i));
        if (m) {
          const url = m[0].replace(/[.,;:!?'")\]]+$/, "");
          flush();
          parent.append(linkNode(url, url, false, depth));
          i += url.length;
          continue;
        }
      }
      if (c === "*" || c === "_") {
        let n = 1;
        while (text[i + n] === c && n < 3) n += 1;
        const leftOk = c === "*" || i === 0 || !/[\p{L}\p{N}]/u.test(text[i - 1]);
        const run = c.repeat(n);
        const j = leftOk ? emphasisClose(text, i, run) : -1;
        if (j > 0) {
          flush();
          const inner = text.slice(i + n, j);
          let node;
          if (n === 1) node = el("em");
          else if (n === 2) node = el("strong");
          else {
            node = el("strong");
            const em = el("em");
            node.append(em);
            inline(inner, em, depth + 1, links);
            parent.append(node);
            i = j + n;
            continue;
          }
          inline(inner, node, depth + 1, links);
          parent.append(node);
          i = j + n;
          continue;
        }
        buf += run;
        i += n;
        continue;
      }
      buf += c;
      i += 1;
    }
    flush();
  }

  // ---- blocks ------------------------------------------------------------------------
  function startsBlock(line) {
    return FENCE.test(line) || HEADING.test(line) || RULE.test(line) || QUOTE.test(line)
      || (ITEM.test(line) && !BLANK.test(ITEM.exec(line)[4]));
  }

  function codeBlock(lines, lang) {
    const pre = el("pre");
    const code = el("code");
    if (lang) code.dataset.lang = lang;
    code.textContent = lines.join("\n");
    pre.append(code);
    return pre;
  }

  function blocks(lines, parent, depth) {
    let i = 0;
    while (i < lines.length) {
      const line = lines[i];
      if (BLANK.test(line)) { i += 1; continue; }

      const fence = FENCE.exec(line);
      if (fence) {
        const indent = fence[1].length;
        const marker = fence[2];
        const body = [];
        i += 1;
        while (i < lines.length) {
          const close = /^ {0,3}(`{3,}|~{3,})[ \t]*$/.exec(lines[i]);
          if (close && close[1][0] === marker[0] && close[1].length >= marker.length) { i += 1; break; }
          body.push(lines[i].replace(new RegExp(`^ {0,${indent}}`), ""));
          i += 1;
        }
        parent.append(codeBlock(body, fence[3].trim().split(/\s+/)[0]));
        continue;
      }
      if (INDENTED.test(line)) {
        const body = [];
        while (i < lines.length && (INDENTED.test(lines[i]) || BLANK.test(lines[i]))) {
          body.push(lines[i].replace(INDENTED, ""));
          i += 1;
        }
        while (body.length && BLANK.test(body[body.length - 1])) body.pop();
        parent.append(codeBlock(body, ""));
        continue;
      }
      const heading = HEADING.exec(line);
      if (heading) {
        const level = Math.min(6, heading[1].length + 3);
        const node = el(`h${level}`, `md-h md-h${heading[1].length}`);
        inline(heading[2] || "", node);
        parent.append(node);
        i += 1;
        continue;
      }
      if (RULE.test(line)) {
        parent.append(el("hr"));
        i += 1;
        continue;
      }
      if (QUOTE.test(line) && depth < MAX_DEPTH) {
        const inner = [];
        while (i < lines.length && !BLANK.test(lines[i])
               && (QUOTE.test(lines[i]) || (inner.length && !startsBlock(lines[i])))) {
          inner.push(lines[i].replace(QUOTE, ""));
          i += 1;
        }
        const quote = el("blockquote");
        blocks(inner, quote, depth + 1);
        parent.append(quote);
        continue;
      }
      const item = ITEM.exec(line);
      if (item && depth < MAX_DEPTH && !(BLANK.test(item[4]) && i + 1 < lines.length && BLANK.test(lines[i + 1]))) {
        i = list(lines, i, parent, depth);
        continue;
      }
      const para = [];
      while (i < lines.length && !BLANK.test(lines[i]) && (para.length === 0 || !startsBlock(lines[i]))) {
        para.push(lines[i].replace(/^[ \t]+/, ""));
        i += 1;
      }
      const p = el("p");
      inline(para.join("\n").replace(/[ \t]+$/, ""), p);
      parent.append(p);
    }
  }

  /** A list starting at lines[i]; returns the index after it. */
  function list(lines, i, parent, depth) {
    const first = ITEM.exec(lines[i]);
    const ordered = /\d/.test(first[2]);
    const delim = first[2].slice(-1);
    const node = el(ordered ? "ol" : "ul");
    if (ordered && parseInt(first[2], 10) !== 1) node.start = parseInt(first[2], 10);
    let loose = false;
    while (i < lines.length) {
      const m = ITEM.exec(lines[i]);
      if (!m || /\d/.test(m[2]) !== ordered || m[2].slice(-1) !== delim) break;
      const width = m[1].length + m[2].length + Math.max(1, Math.min(4, m[3].length));
      const content = [m[4]];
      i += 1;
      while (i < lines.length) {
        const next = lines[i];
        if (BLANK.test(next)) {
          const after = lines[i + 1];
          if (after !== undefined && !BLANK.test(after) && /^\s*/.exec(after)[0].length >= width) {
            content.push("");
            loose = true;
            i += 1;
            continue;
          }
          break;
        }
        const indent = /^\s*/.exec(next)[0].length;
        if (indent >= width) content.push(next.slice(width));
        else if (!startsBlock(next)) content.push(next.trim());
        else break;
        i += 1;
      }
      const li = el("li");
      blocks(content, li, depth + 1);
      node.append(li);
      // a blank line between items makes the list loose
      if (i < lines.length && BLANK.test(lines[i]) && i + 1 < lines.length && ITEM.test(lines[i + 1])) {
        const nm = ITEM.exec(lines[i + 1]);
        if (/\d/.test(nm[2]) === ordered && nm[2].slice(-1) === delim) { loose = true; i += 1; }
      }
    }
    if (!loose) node.classList.add("tight");
    parent.append(node);
    return i;
  }

  /** Replace the children of `container` with `text` rendered as Markdown. */
  function render(text, container) {
    const frag = document.createDocumentFragment();
    blocks(String(text).replace(/\r\n?/g, "\n").split("\n"), frag, 0);
    container.replaceChildren(frag);
  }

  window.askwellMarkdown = Object.freeze({ render });
})();
