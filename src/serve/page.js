// sou's search page. Everything the page shows follows from its URL (q, since, until, any,
// sort, offset, doc), so reload, Back/Forward and a pasted link restore it. All URLs are
// relative: the page works wherever an application mounts it. Document text is only ever
// inserted as text nodes, never parsed as HTML.
"use strict";
const PAGE_SIZE = 10;
const $ = (id) => document.getElementById(id);
const HAN = /[\u3400-\u9fff\uf900-\ufaff]/;
let composing = false;
let timer = null;
let latest = 0;
let typingEntry = false; // the history entry of the search being typed, replaced as it changes

function maxOffset() { return parseInt(document.body.dataset.maxOffset || "10000", 10); }
function token() { return sessionStorage.getItem("sou-token") || ""; }

async function api(path, params) {
  const headers = token() ? { Authorization: "Bearer " + token() } : {};
  const response = await fetch(path + (params && params.toString() ? "?" + params : ""), { headers });
  let data = {};
  try { data = await response.json(); } catch (e) { data = { error: response.statusText }; }
  if (response.status === 401) $("token-box").hidden = false;
  return { ok: response.ok, status: response.status, data };
}

// Wraps highlighted character ranges of `text` in <mark>.
function marked(text, ranges) {
  const chars = Array.from(text);
  const out = document.createDocumentFragment();
  let last = 0;
  for (const [start, end] of ranges || []) {
    if (start < last || end > chars.length) continue;
    out.append(chars.slice(last, start).join(""));
    const m = document.createElement("mark");
    m.textContent = chars.slice(start, end).join("");
    out.append(m);
    last = end;
  }
  out.append(chars.slice(last).join(""));
  return out;
}

function langOf(text) { return HAN.test(text) ? "zh" : "en"; }

function stateFromUrl() {
  const p = new URLSearchParams(location.search);
  const offset = Math.max(0, parseInt(p.get("offset") || "0", 10) || 0);
  return {
    q: p.get("q") || "", since: p.get("since") || "", until: p.get("until") || "",
    any: p.get("any") === "1", sort: p.get("sort") === "date" ? "date" : "",
    offset: Math.min(offset, maxOffset()), doc: p.get("doc") || "",
  };
}

function stateFromForm() {
  return { q: $("q").value.trim(), since: $("since").value, until: $("until").value,
    any: $("any").checked, sort: $("sort").value === "date" ? "date" : "", offset: 0, doc: "" };
}

function searchParams(state) {
  const p = new URLSearchParams();
  if (state.q) p.set("q", state.q);
  if (state.since) p.set("since", state.since);
  if (state.until) p.set("until", state.until);
  if (state.any) p.set("any", "1");
  if (state.sort) p.set("sort", state.sort);
  if (state.offset) p.set("offset", String(state.offset));
  if (state.doc) p.set("doc", state.doc);
  return p;
}

// Absolute paths: relative ones would resolve against the <base>, which ends in a slash that
// a mounting application may not route.
function urlFor(state) {
  const qs = searchParams(state).toString();
  return location.pathname + (qs ? "?" + qs : "");
}

function navigate(state, options) {
  const url = urlFor(state);
  const same = url === location.pathname + location.search;
  const entry = { fromResults: Boolean(options && options.fromResults) };
  if ((options && options.replace) || same) history.replaceState(entry, "", url);
  else history.pushState(entry, "", url);
  show(state, options);
}

function fillForm(state) {
  if ($("q") !== document.activeElement || !composing) $("q").value = state.q;
  $("since").value = state.since;
  $("until").value = state.until;
  $("any").checked = state.any;
  $("sort").value = state.sort || "relevance";
  if (state.since || state.until || state.any || state.sort) $("filters").open = true;
}

function setStatus(text, isError) {
  $("status").replaceChildren(text);
  $("status").className = isError ? "error" : "";
}

function showOnly(view) {
  $("start").hidden = view !== "start";
  $("results").hidden = view !== "results";
  $("doc").hidden = view !== "doc";
  if (view !== "results") $("pager").hidden = true;
}

function show(state, options) {
  fillForm(state);
  if (state.doc) return showDocument(state);
  if (!state.q) return showStart();
  return runSearch(state, options);
}

async function showStart() {
  showOnly("start");
  document.title = "sou 搜";
  setStatus("");
  const examples = $("examples");
  examples.replaceChildren();
  for (const q of ["芬太尼", "\"entity list\"", "稀土 OR tariffs", "实体清单 date:[2023-01-01 TO *]"]) {
    const a = document.createElement("a");
    a.href = urlFor({ q });
    a.textContent = q;
    a.lang = langOf(q);
    a.addEventListener("click", (e) => { e.preventDefault(); navigate({ q }); });
    if (examples.childNodes.length) examples.append(" · ");
    examples.append(a);
  }
  const ticket = ++latest;
  const { ok, data } = await api("api/stats");
  if (ticket !== latest) return;
  $("start-count").textContent = ok ? `Search ${data.documents.toLocaleString("en")} documents in Chinese and English.` : (data.error || "");
}

function hitItem(hit, state) {
  const li = document.createElement("li");
  const h2 = document.createElement("h2");
  const link = document.createElement("a");
  const target = { ...state, doc: hit.id };
  link.href = urlFor(target);
  link.lang = langOf(hit.title || "");
  link.append(marked(hit.title || "(untitled)", hit.title_char_highlights));
  link.addEventListener("click", (e) => {
    if (e.ctrlKey || e.metaKey || e.shiftKey || e.button !== 0) return;
    e.preventDefault();
    typingEntry = false;
    navigate(target, { fromResults: true });
  });
  h2.append(link);
  const meta = document.createElement("div");
  meta.className = "meta";
  meta.textContent = [hit.date, hit.source, hit.id, "score " + hit.score.toFixed(2)].filter(Boolean).join(" · ");
  li.append(h2, meta);
  const snippets = ["zh", "en"].map((lang) => [lang, hit.snippets[lang]]).filter(([, s]) => s);
  const matched = snippets.filter(([, s]) => s.highlights.length > 0);
  for (const [lang, s] of (matched.length ? matched : snippets.slice(0, 1))) {
    const p = document.createElement("p");
    p.className = "snippet";
    const tag = document.createElement("span");
    tag.className = "lang";
    tag.textContent = lang;
    const text = document.createElement("span");
    text.lang = lang === "zh" ? "zh" : langOf(s.text);
    text.append(marked(s.text.replace(/\n/g, " "), s.char_highlights));
    p.append(tag, text);
    li.append(p);
  }
  return li;
}

function statusOf(data, state) {
  const out = document.createDocumentFragment();
  const notes = [...(data.notices || [])];
  if (data.undated_hidden) notes.push(`the date filter hides ${data.undated_hidden} matching document${data.undated_hidden === 1 ? "" : "s"} without a date`);
  const more = data.total_is_lower_bound ? "+" : "";
  out.append(`${data.total.toLocaleString("en")}${more} result${data.total === 1 && !more ? "" : "s"} in ${data.elapsed_ms.toFixed(1)} ms` + (notes.length ? " — " + notes.join("; ") : ""));
  if (data.total === 0 && data.any_would_find) {
    const a = document.createElement("a");
    const any = { ...state, any: true, offset: 0 };
    a.id = "suggest-any";
    a.href = urlFor(any);
    a.textContent = `Show ${data.any_would_find} document${data.any_would_find === 1 ? "" : "s"} with any of the words`;
    a.addEventListener("click", (e) => { e.preventDefault(); navigate(any); });
    out.append(". ", a);
  }
  return out;
}

async function runSearch(state, options) {
  showOnly("results");
  document.title = state.q + " — sou";
  const params = searchParams({ ...state, doc: "" });
  params.set("limit", String(PAGE_SIZE));
  const ticket = ++latest;
  setStatus("Searching…");
  let answer;
  try { answer = await api("api/search", params); } catch (e) {
    if (ticket === latest) setStatus("Cannot reach the server: " + e.message, true);
    return;
  }
  if (ticket !== latest) return; // a newer search is under way
  const { ok, data } = answer;
  if (!ok) { $("results").replaceChildren(); $("pager").hidden = true; setStatus(data.error || "error", true); return; }
  // An offset past the end (an old or edited link): show the last page instead.
  if (data.total > 0 && state.offset >= data.total) {
    const last = Math.min(Math.floor((data.total - 1) / PAGE_SIZE) * PAGE_SIZE, maxOffset());
    return navigate({ ...state, offset: last }, { replace: true });
  }
  setStatus(statusOf(data, state));
  const list = $("results");
  list.start = state.offset + 1;
  list.replaceChildren(...data.hits.map((hit) => hitItem(hit, state)));
  const pages = Math.ceil(data.total / PAGE_SIZE);
  $("pager").hidden = data.total <= PAGE_SIZE;
  $("page").textContent = "page " + (Math.floor(state.offset / PAGE_SIZE) + 1) + " of " + pages;
  $("prev").disabled = state.offset === 0;
  $("next").disabled = state.offset + PAGE_SIZE >= data.total || state.offset + PAGE_SIZE > maxOffset();
  if (options && options.paged) window.scrollTo(0, 0);
}

async function showDocument(state) {
  showOnly("doc");
  const back = { ...state, doc: "" };
  $("back").href = urlFor(back);
  $("back").onclick = (e) => {
    e.preventDefault();
    if (history.state && history.state.fromResults) history.back(); else navigate(back);
  };
  const path = "api/doc/" + state.doc.split("/").map(encodeURIComponent).join("/");
  const ticket = ++latest;
  setStatus("Loading…");
  const { ok, data } = await api(path, state.q ? new URLSearchParams({ q: state.q }) : null);
  if (ticket !== latest) return;
  for (const id of ["doc-title", "doc-meta", "doc-zh", "doc-en"]) $(id).replaceChildren();
  if (!ok) { setStatus(data.error || "error", true); return; }
  setStatus("");
  const marks = data.highlights || {};
  document.title = (data.title || data.id) + " — sou";
  $("doc-title").lang = langOf(data.title || "");
  $("doc-title").append(marked(data.title || "(untitled)", marks.title));
  $("doc-meta").textContent = [data.date, data.source, data.id].filter(Boolean).join(" · ");
  $("doc-zh").hidden = !data.zh;
  $("doc-zh").append(marked(data.zh || "", marks.zh));
  $("doc-en").hidden = !data.en;
  $("doc-en").lang = langOf(data.en || "") === "zh" ? "zh" : "en";
  $("doc-en").append(marked(data.en || "", marks.en));
  $("doc-title").tabIndex = -1;
  $("doc-title").focus({ preventScroll: true });
  window.scrollTo(0, 0);
}

function searchFromForm(replace) { navigate(stateFromForm(), { replace }); }

function noteLength() {
  const max = parseInt($("q").dataset.max, 10);
  const full = $("q").value.length >= max;
  $("q-note").hidden = !full;
  $("q-note").className = full ? "note error" : "note";
  $("q-note").textContent = full ? `Queries are limited to ${max} characters.` : "";
}

document.addEventListener("DOMContentLoaded", () => {
  $("form").addEventListener("submit", (e) => {
    e.preventDefault();
    clearTimeout(timer);
    const replace = typingEntry;
    typingEntry = false;
    searchFromForm(replace);
  });
  // Search as you type, but never in the middle of an input-method composition (拼音 → 汉字):
  // the half-typed Latin letters are not the query. compositionend searches once it is done.
  const typed = () => { const replace = typingEntry; typingEntry = true; searchFromForm(replace); };
  $("q").addEventListener("compositionstart", () => { composing = true; clearTimeout(timer); });
  $("q").addEventListener("compositionend", () => { composing = false; clearTimeout(timer); timer = setTimeout(typed, 250); noteLength(); });
  $("q").addEventListener("input", (e) => {
    noteLength();
    if (composing || e.isComposing) return;
    clearTimeout(timer);
    timer = setTimeout(typed, 300);
  });
  for (const id of ["since", "until", "any", "sort"]) $(id).addEventListener("change", () => { typingEntry = false; searchFromForm(false); });
  const page = (delta) => {
    const state = stateFromUrl();
    typingEntry = false;
    navigate({ ...state, offset: Math.max(0, state.offset + delta) }, { paged: true });
  };
  $("prev").addEventListener("click", () => page(-PAGE_SIZE));
  $("next").addEventListener("click", () => page(PAGE_SIZE));
  $("home").href = location.pathname;
  $("home").addEventListener("click", (e) => { e.preventDefault(); typingEntry = false; navigate({ q: "" }); });
  $("token-go").addEventListener("click", () => {
    sessionStorage.setItem("sou-token", $("token").value);
    $("token-box").hidden = true;
    show(stateFromUrl());
  });
  window.addEventListener("popstate", () => { typingEntry = false; show(stateFromUrl()); });
  show(stateFromUrl());
});
