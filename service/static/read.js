// Classify and read: an article through POST /analyze, each sentence marked by its label.
import { call } from "./api.js";
import { LABELS, el, labelClass, marker, say, scoresText } from "./dom.js";

const view = document.getElementById("article-view");
const status = document.getElementById("read-status");
const input = document.getElementById("article");

export function initRead() {
  document.getElementById("analyze").addEventListener("click", analyzeArticle);
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      analyzeArticle();
    }
  });
  document.getElementById("legend").replaceChildren(
    "Markers: ",
    ...Object.keys(LABELS).flatMap((label) => [marker(label), ` ${label} `]),
  );
}

async function analyzeArticle() {
  const text = input.value;
  if (!text.trim()) {
    say(status, "Paste a sentence or an article first.", "error");
    return;
  }
  say(status, "Analyzing…");
  try {
    const analysis = await call("POST", "/analyze", { text });
    showSentences(text, analysis.sentences);
    showSummary(analysis.summary, analysis.sentences);
    const count = analysis.sentences.length;
    say(status, `${count} sentence${count === 1 ? "" : "s"}, model ${analysis.model_version}. Tab through the sentences to read their scores.`);
  } catch (error) {
    say(status, `Not analyzed (${error.status || "no answer"}): ${error.message}`, "error");
  }
}

function showSentences(text, sentences) {
  const parts = [];
  let offset = 0;
  for (const sentence of sentences) {
    if (sentence.start > offset) parts.push(text.slice(offset, sentence.start));
    parts.push(sentenceNode(sentence));
    offset = sentence.end;
  }
  if (offset < text.length) parts.push(text.slice(offset));
  view.replaceChildren(...parts);
}

function sentenceNode(sentence) {
  const tipId = `sentence-${sentence.id}-scores`;
  const actor = sentence.actor ? ` · actor ${sentence.actor}` : "";
  return el(
    "span",
    {
      class: `sentence ${labelClass(sentence.label)}`,
      tabindex: "0",
      id: `sentence-${sentence.id}`,
      "data-label": sentence.label,
      "aria-describedby": tipId,
    },
    marker(sentence.label),
    el("span", { class: "text", text: sentence.text }),
    el("span", { class: "tip", role: "tooltip", id: tipId, text: `${sentence.label}: ${scoresText(sentence.scores)}${actor}` }),
  );
}

function showSummary(summary, sentences) {
  document.getElementById("summary").hidden = false;
  const counts = Object.entries(summary.counts).map(([label, n]) => `${n} ${label}`).join(", ");
  const share = (100 * summary.stance_share).toFixed(1);
  document.getElementById("summary-line").textContent = `${counts}; ${share} % take a stance.`;
  const labels = Object.keys(summary.counts);
  document.getElementById("actor-table").replaceChildren(...actorTable(summary.actors, labels, sentences));
  document.getElementById("actor-chart").replaceChildren(...actorChart(summary.actors, labels));
}

function actorTable(actors, labels, sentences) {
  const head = el("tr", {}, el("th", { scope: "col", text: "actor" }),
    ...labels.map((label) => el("th", { scope: "col" }, marker(label), ` ${label}`)),
    el("th", { scope: "col", text: "most confident sentence" }));
  if (!actors.length) {
    return [el("caption", { text: "No actor was named in a sentence that takes a stance." }), el("thead", {}, head)];
  }
  const rows = actors.map((actor) => el("tr", {},
    el("th", { scope: "row", text: actor.actor }),
    ...labels.map((label) => el("td", { text: String(actor.counts[label] ?? 0) })),
    el("td", {}, focusButton(sentences.find((s) => s.id === actor.most_confident)))));
  return [el("thead", {}, head), el("tbody", {}, ...rows)];
}

function focusButton(sentence) {
  if (!sentence) return "";
  const target = () => document.getElementById(`sentence-${sentence.id}`)?.focus();
  return el("button", { type: "button", class: "link", onclick: target, text: sentence.text.slice(0, 80) });
}

function actorChart(actors, labels) {
  const most = Math.max(1, ...actors.map((a) => labels.reduce((n, l) => n + (a.counts[l] ?? 0), 0)));
  return actors.map((actor) => {
    const bar = el("div", { class: "bar" });
    for (const label of labels) {
      const n = actor.counts[label] ?? 0;
      if (!n) continue;
      const segment = el("span", { class: `segment ${labelClass(label)}`, title: `${label}: ${n}`, text: `${LABELS[label]?.code ?? label} ${n}` });
      segment.style.width = `${(100 * n) / most}%`;
      bar.append(segment);
    }
    return el("div", { class: "chart-row" }, el("span", { class: "chart-name", text: actor.actor }), bar);
  });
}
