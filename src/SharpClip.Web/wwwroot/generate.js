// SharpClip generate page: plain DOM + fetch, no framework, no build step.
// The server checks every field (one clear error naming it) and runs one generation at a time; this page sends the
// form, then polls the job for its place in line and its progress, and shows the images with every parameter the
// run recorded (the same generation.json `sharpclip generate` writes).
"use strict";

const $ = (id) => document.getElementById(id);
const status = $("gen-status"), progress = $("progress");
let info = null;      // /api/generate/info: the model's kind, samplers, size rule, limits, the fields it takes
let current = null;   // id of the job being watched
let started = 0;

function setStatus(text, isError = false) {
  status.textContent = text;
  status.classList.toggle("error", isError);
}

async function problemOf(response) {
  try {
    const p = await response.json();
    return { text: `${p.title || response.statusText}: ${p.detail || ""}`, field: p.field };
  } catch {
    return { text: `${response.status} ${response.statusText}` };
  }
}

const plural = (n, word) => `${n} ${word}${n === 1 ? "" : "s"}`;

// ---------------------------------------------------------------- the model and its form

async function loadFeatures() {
  const r = await fetch("/api/features");
  if (!r.ok) return;
  const f = await r.json();
  $("nav").hidden = !(f.search && f.generate);
}

async function loadInfo() {
  const r = await fetch("/api/generate/info");
  if (!r.ok) { $("model").textContent = (await problemOf(r)).text; return; }
  info = await r.json();
  $("model").textContent = `${info.kind} model ${info.model} · ${info.width}×${info.height}` +
    (info.rerank ? ` · reranked by ${info.rerank}` : "");
  for (const el of document.querySelectorAll("[data-field]")) el.hidden = !info.fields.includes(el.dataset.field);
  $("sampler").replaceChildren(...info.samplers.map((s) => new Option(s, s)));
  for (const side of ["width", "height"]) {
    $(side).value = info[side];
    $(side).step = info.sizeMultiple;
    $(side).max = info.limits.maxSide;
    $(side).disabled = info.fixedSize;
  }
  $("steps").max = info.limits.maxSteps;
  $("guidance").max = info.limits.maxGuidance;
  $("count").max = info.limits.maxCount;
  $("seed").max = info.limits.maxSeed;
  if (info.rerank) {
    $("count-label").textContent = "candidates";
    $("count").value = Math.min(8, info.limits.maxCount);
    $("keep").value = Math.min(2, info.limits.maxCount);
  }
}

/** The request the form describes: only the fields this model takes; empty number boxes are left to the server. */
function requestFromForm() {
  const body = { prompt: $("prompt").value };
  for (const field of info.fields) {
    if (field === "prompt") continue;
    const input = $(field);
    if (field === "karras") body.karras = input.checked;
    else if (field === "negative" || field === "sampler") body[field] = input.value;
    else if ((field === "width" || field === "height") && info.fixedSize) continue;
    else if (input.value !== "") body[field] = Number(input.value);
  }
  return body;
}

// ---------------------------------------------------------------- a job: queue, progress, cancel, result

async function submit() {
  for (const el of document.querySelectorAll(".invalid")) el.classList.remove("invalid");
  if (!info) return;
  const body = requestFromForm();
  if (!body.prompt.trim()) { setStatus("describe the image to make", true); $("prompt").classList.add("invalid"); return; }
  $("generate").disabled = true;
  const r = await fetch("/api/generate", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
  if (!r.ok) {
    const p = await problemOf(r);
    if (p.field && $(p.field)) $(p.field).classList.add("invalid");
    setStatus(p.text, true);
    $("generate").disabled = false;
    return;
  }
  const job = await r.json();
  current = job.id;
  started = performance.now();
  $("cancel").hidden = false;
  show(job);
  setTimeout(() => poll(job.id), 200);
}

async function poll(id) {
  if (id !== current) return;
  const r = await fetch(`/api/generate/${id}`);
  if (id !== current) return;
  if (!r.ok) { finish(); setStatus((await problemOf(r)).text, true); return; }
  const job = await r.json();
  show(job);
  if (job.state === "queued" || job.state === "running") setTimeout(() => poll(id), 250);
  else finish(job);
}

function show(job) {
  if (job.state === "queued") {
    progress.hidden = true;
    setStatus(job.busy ? `busy: another generation is running — yours is number ${job.position} in line` : "starting…");
  } else if (job.state === "running") {
    progress.hidden = false;
    progress.max = job.total;
    progress.value = job.done;
    setStatus(`${job.unit} ${job.done}/${job.total}` + (job.cancelRequested ? " · cancelling…" : ""));
  }
}

function finish(job) {
  current = null;
  progress.hidden = true;
  $("cancel").hidden = true;
  $("generate").disabled = false;
  if (!job) return;
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  if (job.state === "done") { render(job); setStatus(`done: ${plural(job.images.length, "image")} in ${seconds} s`); }
  else if (job.state === "cancelled") setStatus("cancelled");
  else setStatus(`failed: ${job.error}`, true);
}

async function cancel() {
  if (!current) return;
  const r = await fetch(`/api/generate/${current}/cancel`, { method: "POST" });
  if (r.ok) show(await r.json());
}

// ---------------------------------------------------------------- showing a result

function render(job) {
  const p = job.parameters;
  const section = document.createElement("section");
  section.className = "generation";
  section.dataset.id = job.id;
  const title = document.createElement("h2");
  title.textContent = `“${p.prompt}”` + (p.negative_prompt ? ` without “${p.negative_prompt}”` : "");
  const summary = document.createElement("p");
  summary.className = "muted";
  summary.textContent = [p.model.kind, p.sampler, p.steps !== undefined ? `${p.steps} steps` : null,
    p.guidance !== undefined ? `guidance ${p.guidance}` : null, p.temperature !== undefined ? `temperature ${p.temperature}` : null,
    `${p.width}×${p.height}`, `seed ${p.seed}`, p.rerank ? `best ${p.rerank.keep} of ${p.count} by CLIP` : null]
    .filter((x) => x !== null).join(" · ");

  const grid = document.createElement("div");
  grid.className = "grid generated";
  for (const image of job.images) {
    const fig = document.createElement("figure");
    fig.className = "hit";
    const img = document.createElement("img");
    img.src = image.url;
    img.alt = `${p.prompt} (seed ${image.seed})`;
    img.addEventListener("load", () => img.classList.toggle("pixelated", img.naturalWidth < 128));
    const cap = document.createElement("figcaption");
    const seed = document.createElement("span");
    seed.className = "seed";
    seed.textContent = `seed ${image.seed}` + (image.cosine !== null && image.cosine !== undefined ? ` · ${image.cosine.toFixed(4)}` : "");
    const download = document.createElement("a");
    download.href = `${image.url}?download=1`;
    download.download = image.file;
    download.textContent = "PNG";
    download.title = `download ${image.file}`;
    cap.append(seed, download);
    fig.append(img, cap);
    grid.append(fig);
  }

  const details = document.createElement("details");
  details.className = "parameters";
  const label = document.createElement("summary");
  label.textContent = "Parameters (generation.json)";
  const pre = document.createElement("pre");
  pre.textContent = JSON.stringify(p, null, 2);
  const links = document.createElement("p");
  const json = document.createElement("a");
  json.href = `${job.parametersUrl}?download=1`;
  json.download = "generation.json";
  json.textContent = "download generation.json";
  links.append(json);
  if (job.contactSheet) {
    const sheet = document.createElement("a");
    sheet.href = job.contactSheet;
    sheet.target = "_blank";
    sheet.textContent = "contact sheet of every candidate";
    links.append(" · ", sheet);
  }
  details.append(label, links, pre);
  for (const older of document.querySelectorAll("details.parameters")) older.open = false;
  details.open = true;

  section.append(title, summary, grid, details);
  $("generations").prepend(section);
}

// ---------------------------------------------------------------- wiring

$("generate-form").addEventListener("submit", (e) => { e.preventDefault(); submit(); });
$("cancel").addEventListener("click", cancel);

loadFeatures();
loadInfo();
