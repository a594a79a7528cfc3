// The /runs viewer's only script: Python highlighting built from text nodes (never innerHTML of model output) and
// live updates over server-sent events. Server-rendered fragments are HTML-escaped by the server's templates.
"use strict";

const KEYWORDS = new Set(("False None True and as assert async await break class continue def del elif else except finally for " +
  "from global if import in is lambda nonlocal not or pass raise return try while with yield print").split(" "));
const TOKEN = /(#[^\n]*)|("""[\s\S]*?"""|'''[\s\S]*?'''|"(?:\\.|[^"\\\n])*"|'(?:\\.|[^'\\\n])*')|\b(\d+(?:\.\d+)?)\b|\b([A-Za-z_][A-Za-z0-9_]*)\b/g;

function highlight(code) {
  if (code.dataset.highlighted) return;
  code.dataset.highlighted = "1";
  const text = code.textContent;
  const parts = document.createDocumentFragment();
  let last = 0;
  for (const match of text.matchAll(TOKEN)) {
    const [whole, comment, string, number, word] = match;
    const kind = comment ? "tok-com" : string ? "tok-str" : number ? "tok-num" : (word && KEYWORDS.has(word)) ? "tok-kw" : null;
    if (!kind) continue;
    if (match.index > last) parts.appendChild(document.createTextNode(text.slice(last, match.index)));
    const span = document.createElement("span");
    span.className = kind;
    span.textContent = whole;
    parts.appendChild(span);
    last = match.index + whole.length;
  }
  parts.appendChild(document.createTextNode(text.slice(last)));
  code.replaceChildren(parts);
}

function highlightAll(root) {
  root.querySelectorAll("code.python").forEach(highlight);
}

function setText(id, value) {
  const element = document.getElementById(id);
  if (element && value !== undefined && value !== null) element.textContent = String(value);
}

function followLiveRun() {
  const body = document.body;
  if (body.dataset.live !== "1") return;
  const timeline = document.getElementById("timeline");
  const source = new EventSource("/runs/" + encodeURIComponent(body.dataset.run) + "/events?after=" + encodeURIComponent(body.dataset.steps || "0"));
  source.addEventListener("step", (event) => {
    const update = JSON.parse(event.data);
    timeline.insertAdjacentHTML("beforeend", update.html);
    highlightAll(timeline.lastElementChild || timeline);
    body.dataset.steps = String(update.steps);
    setText("iterations", update.steps);
  });
  source.addEventListener("status", (event) => {
    const update = JSON.parse(event.data);
    const status = document.getElementById("status");
    status.textContent = update.status;
    status.className = "status status-" + update.status;
    setText("tokens", update.tokens);
    setText("cost", update.cost);
    setText("duration", update.duration);
    setText("llm-calls", update.llmCalls);
    if (update.status !== "running") source.close();
  });
}

document.addEventListener("DOMContentLoaded", () => {
  highlightAll(document);
  followLiveRun();
});
