// Building elements with text content only: nothing from the service is ever parsed as HTML.
export const LABELS = {
  supportive: { key: "1", code: "S+" },
  cautious: { key: "2", code: "C~" },
  opposed: { key: "3", code: "O-" },
  none: { key: "4", code: "N" },
};

export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "text") node.textContent = value;
    else if (name === "class") node.className = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : value);
  }
  node.append(...children.filter((child) => child !== null && child !== undefined));
  return node;
}

export function labelClass(label) {
  return label in LABELS ? `label-${label}` : "label-other";
}

export function marker(label) {
  return el("span", { class: `marker ${labelClass(label)}`, title: label, text: LABELS[label]?.code ?? label });
}

export function scoresText(scores) {
  return Object.entries(scores)
    .map(([label, score]) => `${label} ${score.toFixed(2)}`)
    .join(" · ");
}

export function say(node, text, kind = "") {
  node.textContent = text;
  node.className = kind;
}
