// SharpClip search page: plain DOM + fetch, no framework, no build step.
"use strict";

const $ = (id) => document.getElementById(id);
const results = $("results"), status = $("status");

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

async function loadStats() {
  const r = await fetch("/api/stats");
  if (!r.ok) { $("stats").textContent = await problemText(r); return; }
  const s = await r.json();
  $("stats").textContent = `${s.images} images · ${s.failures} ${s.failures === 1 ? "failure" : "failures"} · model ${s.model} · ${s.dimension}-d ${s.precision}`;
  $("stats").dataset.images = s.images;
}

function render(data, label) {
  results.replaceChildren();
  for (const hit of data.results) {
    const fig = document.createElement("figure");
    fig.className = "hit";
    fig.dataset.id = hit.id;
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
    fig.addEventListener("click", () => searchLike(hit.id, hit.name));
    results.append(fig);
  }
  setStatus(`${data.count} results for ${label} (${data.tookMs} ms)`);
}

async function run(request, label) {
  setStatus("searching…");
  const r = await request;
  if (!r.ok) { results.replaceChildren(); setStatus(await problemText(r), true); return; }
  render(await r.json(), label);
}

function searchText() {
  const q = $("q").value.trim(), negative = $("negative").value.trim();
  if (!q) { setStatus("type what you are looking for", true); return; }
  const params = new URLSearchParams({ q });
  if (negative) params.set("negative", negative);
  run(fetch(`/api/search?${params}`), `“${q}”` + (negative ? ` without “${negative}”` : ""));
}

function searchLike(id, name) {
  run(fetch(`/api/search?id=${encodeURIComponent(id)}`), `images like ${name}`);
}

function searchFile(file) {
  const form = new FormData();
  form.append("image", file);
  run(fetch("/api/search/image", { method: "POST", body: form }), `images like the uploaded ${file.name}`);
}

$("search-form").addEventListener("submit", (e) => { e.preventDefault(); searchText(); });
$("file").addEventListener("change", (e) => { if (e.target.files.length) searchFile(e.target.files[0]); e.target.value = ""; });
const drop = $("drop");
for (const type of ["dragenter", "dragover"]) drop.addEventListener(type, (e) => { e.preventDefault(); drop.classList.add("over"); });
for (const type of ["dragleave", "drop"]) drop.addEventListener(type, () => drop.classList.remove("over"));
drop.addEventListener("drop", (e) => { e.preventDefault(); e.stopPropagation(); if (e.dataTransfer.files.length) searchFile(e.dataTransfer.files[0]); });
document.addEventListener("dragover", (e) => e.preventDefault());
document.addEventListener("drop", (e) => { e.preventDefault(); if (e.dataTransfer.files.length) searchFile(e.dataTransfer.files[0]); });

loadStats();
