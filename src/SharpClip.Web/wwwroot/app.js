// SharpClip search page: plain DOM + fetch, no framework, no build step.
// The search lives in the URL (?q=…&neg=…&k=…&page=…, or ?like=<id> for "more like this"), so a search can be
// bookmarked and shared and back/forward step through earlier searches. An uploaded query image cannot live in a
// URL; its pages are kept in memory.
"use strict";

const $ = (id) => document.getElementById(id);
const results = $("results"), status = $("status"), viewer = $("viewer");
const PAGE_SIZES = [12, 24, 48, 96], DEFAULT_K = 24;

let upload = null;      // the File of an upload search, else null
let uploadState = { k: DEFAULT_K, page: 1 };
let latest = 0;         // number of the newest search: answers to older ones are dropped
let shown = [];         // hits on the current page, for the viewer
let current = -1;       // index in `shown` of the hit in the viewer

function setStatus(text, isError = false) {
  status.textContent = text;
  status.classList.toggle("error", isError);
}

async function problemText(response) {
  try {
    const p = await response.json();
    return `${p.title || response.statusText}: ${p.detail || ""}`;
  } catch {
    return `${response.status} ${response.statusText}`;
  }
}

const plural = (n, word) => `${n} ${word}${n === 1 ? "" : "s"}`;

// ---------------------------------------------------------------- the search in the URL

function stateFromUrl() {
  const p = new URLSearchParams(location.search);
  const k = Number(p.get("k")), page = Number(p.get("page"));
  return {
    q: (p.get("q") || "").trim(),
    neg: (p.get("neg") || "").trim(),
    like: /^\d+$/.test(p.get("like") || "") ? p.get("like") : "",
    k: PAGE_SIZES.includes(k) ? k : DEFAULT_K,
    page: Number.isInteger(page) && page > 1 ? page : 1,
  };
}

function urlFor(s) {
  const p = new URLSearchParams();
  if (s.like) p.set("like", s.like);
  else {
    p.set("q", s.q);
    if (s.neg) p.set("neg", s.neg);
  }
  p.set("k", s.k);
  if (s.page > 1) p.set("page", s.page);
  return `${location.pathname}?${p}`;
}

/** Shows a search: records it in the history (unless it is already the current entry), then runs it. */
function go(s) {
  upload = null;
  const url = urlFor(s);
  if (url !== location.pathname + location.search) history.pushState(null, "", url);
  runFromUrl();
}

/** Runs whatever search the URL holds (page load, back/forward). */
function runFromUrl() {
  upload = null;
  const s = stateFromUrl();
  $("q").value = s.q;
  $("negative").value = s.neg;
  $("k").value = String(s.k);
  if (s.q || s.like) search(s);
  else { results.replaceChildren(); $("pager").hidden = true; setStatus(""); }
}

// ---------------------------------------------------------------- running and showing a search

async function search(s) {
  const mine = ++latest;
  setStatus("searching…");
  const offset = (s.page - 1) * s.k;
  let request;
  if (upload) {
    const form = new FormData();
    form.append("image", upload);
    form.append("k", s.k);
    form.append("offset", offset);
    request = fetch("/api/search/image", { method: "POST", body: form });
  } else {
    const params = new URLSearchParams({ k: s.k, offset });
    if (s.like) params.set("id", s.like);
    else {
      params.set("q", s.q);
      if (s.neg) params.set("negative", s.neg);
    }
    request = fetch(`/api/search?${params}`);
  }
  const r = await request;
  if (mine !== latest) return;
  if (!r.ok) { results.replaceChildren(); $("pager").hidden = true; setStatus(await problemText(r), true); return; }
  const data = await r.json();
  if (mine !== latest) return;
  const label = upload ? `images like the uploaded ${upload.name}`
    : s.like ? `images like ${data.like ? data.like.name : "#" + s.like}`
    : `“${s.q}”` + (s.neg ? ` without “${s.neg}”` : "");
  render(data, s, label);
}

function render(data, s, label) {
  shown = data.results;
  results.replaceChildren(...shown.map((hit, i) => {
    const fig = document.createElement("figure");
    fig.className = "hit";
    fig.dataset.id = hit.id;
    fig.tabIndex = 0;
    fig.title = hit.caption ? `${hit.path}\n${hit.caption}` : hit.path;
    const img = document.createElement("img");
    img.src = hit.thumb;
    img.alt = hit.caption || hit.name;
    img.loading = "lazy";
    const cap = document.createElement("figcaption");
    const score = document.createElement("span");
    score.className = "score";
    score.textContent = hit.score.toFixed(4);
    const name = document.createElement("span");
    name.className = "name";
    name.textContent = hit.name;
    cap.append(score, name);
    fig.append(img, cap);
    if (hit.caption) {
      const caption = document.createElement("p");
      caption.className = "caption";
      caption.textContent = hit.caption;
      fig.append(caption);
    }
    if (hit.warning) {
      const warn = document.createElement("span");
      warn.className = "badge";
      warn.textContent = "⚠";
      warn.title = hit.warning;
      fig.append(warn);
    }
    fig.addEventListener("click", () => openViewer(i));
    fig.addEventListener("keydown", (e) => { if (e.key === "Enter") openViewer(i); });
    return fig;
  }));
  const pages = Math.max(1, Math.ceil(data.total / s.k));
  $("pager").hidden = data.total <= s.k && s.page === 1;
  $("page-info").textContent = data.count
    ? `page ${s.page} of ${pages} · ${data.offset + 1}–${data.offset + data.count} of ${data.total}`
    : `page ${s.page} of ${pages}`;
  $("prev").disabled = s.page <= 1;
  $("next").disabled = s.page >= pages;
  setStatus(`${data.count} results for ${label} (${data.tookMs} ms)`);
}

function toPage(delta) {
  if (upload) {
    uploadState.page += delta;
    search(uploadState);
  } else {
    const s = stateFromUrl();
    go({ ...s, page: s.page + delta });
  }
}

function searchFile(file) {
  // An uploaded image cannot be put in a URL: leave a plain URL behind so a reload does not rerun an older search.
  if (location.search) history.pushState(null, "", location.pathname);
  upload = file;
  uploadState = { k: Number($("k").value), page: 1 };
  search(uploadState);
}

// ---------------------------------------------------------------- the viewer (lightbox)

function openViewer(i) {
  current = i;
  const hit = shown[i];
  $("viewer-img").src = hit.image;
  $("viewer-img").alt = hit.caption || hit.name;
  $("viewer-caption").textContent = hit.caption || hit.name;
  $("viewer-path").textContent = `${hit.path} · ${hit.width}×${hit.height} · score ${hit.score.toFixed(4)}`;
  $("viewer-warning").textContent = hit.warning ? `⚠ ${hit.warning}` : "";
  $("viewer-warning").hidden = !hit.warning;
  $("viewer-pos").textContent = `${i + 1} / ${shown.length}`;
  $("viewer-open").href = hit.image;
  $("viewer-prev").disabled = i === 0;
  $("viewer-next").disabled = i === shown.length - 1;
  if (!viewer.open) viewer.showModal();
}

function step(delta) {
  const i = current + delta;
  if (i >= 0 && i < shown.length) openViewer(i);
}

viewer.addEventListener("keydown", (e) => {
  if (e.key === "ArrowRight") { e.preventDefault(); step(1); }
  else if (e.key === "ArrowLeft") { e.preventDefault(); step(-1); }
});
viewer.addEventListener("click", (e) => { if (e.target === viewer) viewer.close(); }); // a click on the backdrop
$("viewer-close").addEventListener("click", () => viewer.close());
$("viewer-prev").addEventListener("click", () => step(-1));
$("viewer-next").addEventListener("click", () => step(1));
$("viewer-similar").addEventListener("click", () => {
  const hit = shown[current];
  viewer.close();
  go({ q: "", neg: "", like: String(hit.id), k: Number($("k").value), page: 1 });
});

// ---------------------------------------------------------------- the index: figures, failures and warnings

async function loadStats() {
  const r = await fetch("/api/stats");
  if (!r.ok) { $("stats").textContent = await problemText(r); return; }
  const s = await r.json();
  $("stats").textContent = `${s.images} images · ${plural(s.failures, "failure")} · ${plural(s.warnings, "warning")} · model ${s.model} · ${s.dimension}-d ${s.precision}`;
  $("stats").dataset.images = s.images;
  if (s.failures || s.warnings) loadNotes(s);
}

async function loadNotes(s) {
  const [failures, warnings] = await Promise.all(["/api/failures", "/api/warnings"].map((u) => fetch(u).then((r) => (r.ok ? r.json() : []))));
  const item = (kind, entry) => {
    const li = document.createElement("li");
    li.className = kind;
    const name = document.createElement("strong");
    name.textContent = entry.name;
    name.title = entry.path;
    li.append(name, ` — ${entry.reason}`);
    return li;
  };
  $("notes-list").replaceChildren(...warnings.map((w) => item("warning", w)), ...failures.map((f) => item("failure", f)));
  $("notes-summary").textContent = `Index notes: ${plural(s.warnings, "warning")}, ${plural(s.failures, "file")} not indexed`;
  $("notes").hidden = false;
}

// ---------------------------------------------------------------- wiring

$("search-form").addEventListener("submit", (e) => {
  e.preventDefault();
  const q = $("q").value.trim(), neg = $("negative").value.trim();
  if (!q) { setStatus("type what you are looking for", true); return; }
  go({ q, neg, like: "", k: Number($("k").value), page: 1 });
});
$("k").addEventListener("change", () => {
  const k = Number($("k").value);
  if (upload) { uploadState = { k, page: 1 }; search(uploadState); return; }
  const s = stateFromUrl();
  if (s.q || s.like) go({ ...s, k, page: 1 });
});
$("prev").addEventListener("click", () => toPage(-1));
$("next").addEventListener("click", () => toPage(1));
window.addEventListener("popstate", runFromUrl);

$("file").addEventListener("change", (e) => { if (e.target.files.length) searchFile(e.target.files[0]); e.target.value = ""; });
const drop = $("drop");
for (const type of ["dragenter", "dragover"]) drop.addEventListener(type, (e) => { e.preventDefault(); drop.classList.add("over"); });
for (const type of ["dragleave", "drop"]) drop.addEventListener(type, () => drop.classList.remove("over"));
drop.addEventListener("drop", (e) => { e.preventDefault(); e.stopPropagation(); if (e.dataTransfer.files.length) searchFile(e.dataTransfer.files[0]); });
document.addEventListener("dragover", (e) => e.preventDefault());
document.addEventListener("drop", (e) => { e.preventDefault(); if (e.dataTransfer.files.length) searchFile(e.dataTransfer.files[0]); });

/** Links the generate page when this server has one too. */
async function loadFeatures() {
  const r = await fetch("/api/features");
  if (!r.ok) return;
  const f = await r.json();
  $("nav").hidden = !(f.search && f.generate);
}

loadFeatures();
loadStats();
runFromUrl();
