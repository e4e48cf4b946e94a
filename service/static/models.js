// Models: the version in service, every version with its test figures and confusion matrix,
// Retrain (following the job until its outcome) and Roll back.
import { adminToken, call, image } from "./api.js";
import { el, say } from "./dom.js";

const POLL_MS = 1000;
const FINISHED = new Set(["succeeded", "refused", "failed"]);
const SHOWN_METRICS = ["macro_f1", "accuracy", "four_label_macro_f1", "supportive_f1", "cautious_f1", "opposed_f1", "none_f1", "none_precision", "none_recall", "ece", "n"];

const status = document.getElementById("models-status");
const versionsNode = document.getElementById("versions");
const jobNode = document.getElementById("job");
let following = null;

export function initModels(onModelChange) {
  document.getElementById("retrain").addEventListener("click", () => retrain(onModelChange));
  document.addEventListener("stance:admin", () => {
    refreshVersions();
    followRunningJob(onModelChange);
  });
}

export async function showCurrentModel() {
  const node = document.getElementById("current-model");
  try {
    const model = await call("GET", "/model");
    node.replaceChildren(
      el("p", {}, "In service: ", el("strong", { id: "serving-version", text: model.version }),
        ` (${model.base_model}, ${model.precision}, trained ${model.trained_at})`),
      metricsList(model.test_metrics),
    );
    return model;
  } catch (error) {
    node.replaceChildren(el("p", { class: "error", text: `No model in service (${error.status || "no answer"}): ${error.message}` }));
    return null;
  }
}

function metricsList(metrics) {
  const shown = SHOWN_METRICS.filter((name) => typeof metrics?.[name] === "number");
  return el("dl", { class: "metrics" }, ...shown.flatMap((name) => [
    el("dt", { text: name }),
    el("dd", { text: name === "n" ? String(metrics[name]) : metrics[name].toFixed(3) }),
  ]));
}

export async function refreshVersions() {
  if (!adminToken()) {
    versionsNode.replaceChildren(el("caption", { text: "The versions are listed with the admin token." }));
    return;
  }
  try {
    const versions = await call("GET", "/admin/versions", undefined, { admin: true });
    versionsNode.replaceChildren(
      el("caption", { text: `${versions.length} versions, newest last` }),
      el("thead", {}, el("tr", {}, ...["version", "state", "created", "test macro-F1", "details", ""].map((name) => el("th", { scope: "col", text: name })))),
      el("tbody", {}, ...versions.map(versionRow)),
    );
  } catch (error) {
    versionsNode.replaceChildren(el("caption", { class: "error", text: `No versions (${error.status || "no answer"}): ${error.message}` }));
  }
}

function versionRow(version) {
  const states = [version.current && "current", version.serving && "serving", version.error && "unreadable"].filter(Boolean);
  const f1 = typeof version.test_macro_f1 === "number" ? version.test_macro_f1.toFixed(3) : "–";
  return el("tr", { "data-version": version.version, class: version.current ? "current" : "" },
    el("th", { scope: "row", text: version.version }),
    el("td", { class: "version-state", text: states.join(", ") || "–" }),
    el("td", { text: version.created_at ?? "–" }),
    el("td", { text: f1 }),
    el("td", {}, details(version)),
    el("td", {}, el("button", {
      type: "button",
      class: "rollback",
      disabled: version.current || Boolean(version.error),
      "aria-label": `Roll back to ${version.version}`,
      onclick: () => rollback(version.version),
      text: "Roll back",
    })),
  );
}

function details(version) {
  const picture = el("div", { class: "confusion" });
  const node = el("details", {}, el("summary", { text: "test metrics and confusion matrix" }),
    version.error ? el("p", { class: "error", text: version.error }) : metricsList(version.test_metrics), picture);
  node.addEventListener("toggle", async () => {
    if (!node.open || picture.childElementCount) return;
    try {
      const url = await image(`/admin/versions/${encodeURIComponent(version.version)}/confusion-matrix`);
      picture.replaceChildren(el("img", { src: url, alt: `confusion matrix of ${version.version} on the test split` }));
    } catch (error) {
      picture.replaceChildren(el("p", { text: `No confusion matrix: ${error.message}` }));
    }
  });
  return node;
}

async function rollback(version) {
  say(status, `Rolling back to ${version}…`);
  try {
    const result = await call("POST", "/admin/rollback", { version }, { admin: true });
    say(status, `Rolled back: ${result.model_version} is served (was ${result.previous_version ?? "none"}).`, "ok");
  } catch (error) {
    say(status, `Not rolled back (${error.status || "no answer"}): ${error.message}`, "error");
  }
  await Promise.all([showCurrentModel(), refreshVersions()]);
}

async function retrain(onModelChange) {
  say(status, "Starting a retrain…");
  try {
    const job = await call("POST", "/admin/retrain", undefined, { admin: true });
    say(status, `Retrain job ${job.id} started.`);
    follow(job, onModelChange);
  } catch (error) {
    say(status, `Not started (${error.status || "no answer"}): ${error.message}`, "error");
    if (error.status === 409) followRunningJob(onModelChange);
  }
}

async function followRunningJob(onModelChange) {
  if (!adminToken()) return;
  try {
    const jobs = await call("GET", "/admin/jobs", undefined, { admin: true });
    const running = jobs.find((job) => !FINISHED.has(job.state));
    if (running) follow(running, onModelChange);
  } catch {
    // the token panel reports a refused token
  }
}

function follow(job, onModelChange) {
  following = job.id;
  showJob(job);
  poll(job.id, onModelChange);
}

async function poll(id, onModelChange) {
  if (following !== id) return;
  try {
    const job = await call("GET", `/admin/jobs/${encodeURIComponent(id)}`, undefined, { admin: true });
    showJob(job);
    if (FINISHED.has(job.state)) {
      following = null;
      await Promise.all([showCurrentModel(), refreshVersions()]);
      onModelChange();
      return;
    }
  } catch (error) {
    say(document.getElementById("job-outcome"), `Lost the job (${error.status || "no answer"}): ${error.message}; retrying`, "error");
  }
  setTimeout(() => poll(id, onModelChange), POLL_MS);
}

function showJob(job) {
  jobNode.hidden = false;
  const p = job.progress;
  const parts = [`Job ${job.id}: ${job.state}`];
  if (p) {
    parts.push(`stage ${p.stage}`);
    if (p.member != null) parts.push(`member ${p.member_number} of ${p.members} (${p.member})`);
    if (p.epoch != null) parts.push(`epoch ${p.epoch} of ${p.max_epochs ?? "?"}`);
    if (p.steps != null) parts.push(`step ${p.steps} of ${p.total_steps ?? "?"}`);
    if (p.dev_macro_f1 != null) parts.push(`dev macro-F1 ${p.dev_macro_f1.toFixed(3)}`);
  }
  document.getElementById("job-stage").textContent = parts.join(" · ");
  showProgress(job);
  document.getElementById("job-log").textContent = job.log.at(-1) ?? "";
  const outcome = document.getElementById("job-outcome");
  if (job.state === "succeeded") say(outcome, `Promoted: ${job.version} is served. ${job.reason ?? ""}`, "ok");
  else if (job.state === "refused") say(outcome, `Refused: ${job.reason ?? "the promotion gate kept the current model"}. ${job.version ?? ""} is not served.`, "error");
  else if (job.state === "failed") say(outcome, `Failed: ${job.error ?? "no error given"}`, "error");
  else say(outcome, "");
}

function showProgress(job) {
  const bar = document.getElementById("job-progress");
  const p = job.progress;
  let done = null;
  if (FINISHED.has(job.state)) done = 1;
  else if (p?.steps != null && p.total_steps) done = p.steps / p.total_steps;
  else if (p?.epoch != null && p.max_epochs) done = p.epoch / p.max_epochs;
  if (done !== null && p?.members) done = (p.member_number - 1 + Math.min(1, done)) / p.members;
  if (done === null) bar.removeAttribute("value");
  else bar.value = Math.min(1, done);
  bar.textContent = done === null ? "running" : `${Math.round(100 * done)} %`;
}
