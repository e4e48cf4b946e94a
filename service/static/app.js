// The analysts' page: wiring the admin token, the model line and the three panels.
import { adminToken, call, setAdminToken } from "./api.js";
import { say } from "./dom.js";
import { initModels, refreshVersions, showCurrentModel } from "./models.js";
import { initQueue, refreshCounts } from "./queue.js";
import { initRead } from "./read.js";

const READ_ONLY =
  "Read-only: without the admin token this page classifies and shows what to label next, but " +
  "cannot label, retrain or roll back, because those routes need the service's " +
  "STANCE_ADMIN_TOKEN. Enter it above; it is kept in this tab only.";

const access = document.getElementById("access");

async function checkAccess() {
  const admin = Boolean(adminToken());
  document.body.classList.toggle("read-only", !admin);
  for (const button of document.querySelectorAll("button.admin")) button.disabled = !admin;
  if (!admin) {
    say(access, READ_ONLY, "warning");
    await refreshVersions();
    return;
  }
  try {
    await call("GET", "/admin/jobs", undefined, { admin: true });
    say(access, "Admin: labelling, retraining and rolling back are on.", "ok");
    document.dispatchEvent(new CustomEvent("stance:admin"));
  } catch (error) {
    setAdminToken(null);
    say(access, `The service refused the token (${error.status || "no answer"}): ${error.message}. ${READ_ONLY}`, "error");
  }
}

async function showModelLine() {
  const model = await showCurrentModel();
  const line = document.getElementById("model-line");
  if (model) say(line, `Model ${model.version}: labels ${model.labels.join(", ")}.`);
  else say(line, "No model in service: classifying and labelling wait for one.", "error");
  return model;
}

async function start() {
  document.getElementById("token-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const field = document.getElementById("token");
    setAdminToken(field.value.trim());
    field.value = "";
  });
  document.getElementById("token-forget").addEventListener("click", () => setAdminToken(null));
  document.addEventListener("stance:token", checkAccess);
  initRead();
  initModels(() => { showModelLine(); refreshCounts(); });
  const model = await showModelLine();
  initQueue(model?.labels ?? ["supportive", "cautious", "opposed", "none"]);
  await checkAccess();
}

start();
