// The label queue: sentences from POST /suggest one at a time, answers to POST /labels in
// small batches, every answer's result (added, duplicate, conflict, invalid) kept on it.
import { adminToken, call } from "./api.js";
import { LABELS, el, labelClass, marker, say, scoresText } from "./dom.js";

const BATCH_SIZE = 5;
const SEND_AFTER_MS = 1500;
const SUGGESTIONS = 20;
const SOURCE = "page";

const itemNode = document.getElementById("queue-item");
const buttonsNode = document.getElementById("queue-buttons");
const status = document.getElementById("queue-status");
const counter = document.getElementById("queue-counter");
const answersNode = document.getElementById("answers");

const state = {
  labels: [],
  items: [],
  seen: new Set(),
  history: [],
  pending: [],
  timer: null,
  sending: false,
  labelled: 0,
  exhausted: false,
};

export function initQueue(labels) {
  state.labels = labels;
  buttonsNode.replaceChildren(
    ...labels.map((label) => answerButton(label)),
    el("button", { type: "button", class: "admin", "data-key": "s", onclick: skip, text: "Skip (s)" }),
    el("button", { type: "button", class: "admin", "data-key": "u", onclick: undo, text: "Undo (u)" }),
    el("button", { type: "button", class: "admin", onclick: sendNow, text: "Send now" }),
  );
  document.addEventListener("keydown", onKey);
  window.addEventListener("pagehide", sendNow);
  loadMore();
  refreshCounts();
}

function answerButton(label) {
  const key = LABELS[label]?.key;
  const text = key ? `${label} (${key})` : label;
  return el("button", { type: "button", class: `admin answer ${labelClass(label)}`, "data-label": label, "data-key": key, onclick: () => answer(label), text });
}

function keyLabel(key) {
  return state.labels.find((label) => LABELS[label]?.key === key);
}

function onKey(event) {
  if (event.ctrlKey || event.metaKey || event.altKey) return;
  if (event.target.closest("input, textarea, select, [contenteditable]")) return;
  const key = event.key.toLowerCase();
  const label = keyLabel(key);
  if (!label && key !== "s" && key !== "u") return;
  event.preventDefault();
  if (!adminToken()) {
    say(status, "Read-only: labelling needs the admin token (see the top of the page).", "error");
    return;
  }
  if (label) answer(label);
  else if (key === "s") skip();
  else undo();
}

async function loadMore() {
  say(status, "Loading sentences to label…");
  try {
    const found = await call("POST", "/suggest", { k: SUGGESTIONS });
    const fresh = found.suggestions.filter((s) => !state.seen.has(s.text));
    fresh.forEach((s) => state.seen.add(s.text));
    state.items.push(...fresh);
    state.exhausted = fresh.length === 0;
    say(status, state.exhausted ? "No more sentences to label: the pool's sentences are all labelled or answered." : "");
  } catch (error) {
    say(status, `No suggestions (${error.status || "no answer"}): ${error.message}`, "error");
  }
  showItem();
}

function showItem() {
  const item = state.items[0];
  if (!item) {
    itemNode.replaceChildren(el("p", { text: "Nothing to label right now." }));
    return;
  }
  itemNode.replaceChildren(
    el("p", { class: "queue-text", text: item.text }),
    el("p", { class: "guess" }, "Model's guess: ", marker(item.label), ` ${item.label} (${scoresText(item.scores)})`),
  );
}

function answer(label) {
  const item = state.items.shift();
  if (!item) return;
  const entry = { item, label, state: "pending", node: null };
  entry.node = el("li", { class: `answer-entry ${labelClass(label)}` });
  state.history.push(entry);
  state.pending.push(entry);
  state.labelled += 1;
  answersNode.prepend(entry.node);
  render(entry);
  afterMove();
  if (state.pending.length >= BATCH_SIZE) sendNow();
  else scheduleSend();
}

function skip() {
  const item = state.items.shift();
  if (!item) return;
  state.history.push({ item, label: null, state: "skipped" });
  say(status, "Skipped.");
  afterMove();
}

function undo() {
  const entry = state.history.at(-1);
  if (!entry) {
    say(status, "Nothing to undo.");
    return;
  }
  if (entry.state !== "pending" && entry.state !== "skipped") {
    say(status, `“${entry.item.text.slice(0, 60)}” was already sent (${entry.state}); the page cannot take a sent label back.`, "error");
    return;
  }
  state.history.pop();
  if (entry.state === "pending") {
    state.pending.splice(state.pending.indexOf(entry), 1);
    entry.node.remove();
    state.labelled -= 1;
  }
  state.items.unshift(entry.item);
  say(status, "Undone.");
  afterMove();
}

function afterMove() {
  showItem();
  showCounter();
  if (state.items.length < 3 && !state.exhausted) loadMore();
}

function scheduleSend() {
  clearTimeout(state.timer);
  state.timer = setTimeout(sendNow, SEND_AFTER_MS);
}

async function sendNow() {
  clearTimeout(state.timer);
  if (state.sending || !state.pending.length) return;
  const batch = state.pending.splice(0, state.pending.length);
  batch.forEach((entry) => { entry.state = "sending"; render(entry); });
  state.sending = true;
  try {
    const examples = batch.map((e) => ({ text: e.item.text, label: e.label, source: SOURCE }));
    const response = await call("POST", "/labels", { examples }, { admin: true, keepalive: true });
    response.results.forEach((result, i) => settle(batch[i], result.status, describe(result)));
  } catch (error) {
    if (error.status === 422 && Array.isArray(error.body?.errors) && error.body.errors.length === batch.length) {
      error.body.errors.forEach((problem, i) => settle(batch[i], "invalid", problem.msg));
    } else {
      batch.forEach((entry) => settle(entry, "failed", `not sent (${error.status || "no answer"}): ${error.message}; it is back in the queue`));
      state.items.unshift(...batch.map((entry) => entry.item));
      showItem();
    }
  } finally {
    state.sending = false;
  }
  showCounter();
  refreshCounts();
  if (state.pending.length) scheduleSend();
}

function describe(result) {
  if (result.status === "conflict" || result.status === "duplicate") {
    const existing = result.existing_label ? ` (already labelled ${result.existing_label})` : "";
    return `${result.message}${existing}`;
  }
  return result.message;
}

function settle(entry, outcome, message) {
  entry.state = outcome;
  entry.message = message;
  if (outcome === "failed" || outcome === "invalid") state.labelled -= 1;
  render(entry);
}

function render(entry) {
  entry.node.dataset.state = entry.state;
  const outcome = entry.state === "pending" || entry.state === "sending" ? `${entry.state}…` : entry.state;
  const parts = [
    marker(entry.label),
    ` ${entry.label}: `,
    el("span", { class: "answer-text", text: entry.item.text }),
    " — ",
    el("strong", { class: `outcome outcome-${entry.state}`, text: outcome }),
  ];
  if (entry.message && entry.state !== "added") parts.push(el("span", { class: "outcome-message", text: `: ${entry.message}` }));
  entry.node.replaceChildren(...parts);
}

function showCounter() {
  counter.textContent = `Labelled this session: ${state.labelled}. Waiting to be sent: ${state.pending.length}.`;
}

export async function refreshCounts() {
  const table = document.getElementById("corpus-counts");
  try {
    const found = await call("GET", "/labels/counts");
    const labels = Object.keys(found.counts);
    table.replaceChildren(
      el("caption", { text: `The corpus: ${found.total} examples` }),
      el("tr", {}, ...labels.map((label) => el("th", { scope: "col" }, marker(label), ` ${label}`))),
      el("tr", {}, ...labels.map((label) => el("td", { "data-label": label, text: String(found.counts[label]) }))),
    );
  } catch (error) {
    table.replaceChildren(el("caption", { text: `No corpus counts (${error.status || "no answer"}): ${error.message}` }));
  }
}
