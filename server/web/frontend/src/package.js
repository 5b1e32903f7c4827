// A process package as the studio holds it: {files: {name: text}, mapping, note}.

export const FORMS = "forms/";

export function bpmnName(files) {
  const wanted = manifestValue(files["process.toml"] || "", "bpmn");
  if (wanted && wanted in files) return wanted;
  return Object.keys(files).find((name) => name.endsWith(".bpmn"));
}

export function formNames(files) {
  return Object.keys(files).filter((n) => n.startsWith(FORMS) && n.endsWith(".json")).sort();
}

// `key = "value"` at the top of process.toml (before any [table]).
function manifestValue(toml, key) {
  for (const line of toml.split("\n")) {
    if (/^\s*\[/.test(line)) break;
    const m = line.match(/^\s*([A-Za-z_]+)\s*=\s*"([^"]*)"/);
    if (m && m[1] === key) return m[2];
  }
  return null;
}

// The [lanes] table of process.toml: lane name -> role key (the manifest's own mapping,
// which the studio shows until the manager chooses otherwise).
export function manifestLanes(toml) {
  const lanes = {};
  let inLanes = false;
  for (const line of (toml || "").split("\n")) {
    const table = line.match(/^\s*\[([^\]]+)\]/);
    if (table) { inLanes = table[1].trim() === "lanes"; continue; }
    if (!inLanes) continue;
    const m = line.match(/^\s*"((?:[^"\\]|\\.)*)"\s*=\s*"([^"]*)"/) ||
      line.match(/^\s*([A-Za-z0-9_-]+)\s*=\s*"([^"]*)"/);
    if (m) lanes[m[1]] = m[2];
  }
  return lanes;
}

export function newFormSchema(title) {
  return JSON.stringify({
    type: "object",
    title,
    properties: { note: { type: "string", title: "备注", "x-title-en": "Note" } },
    required: [],
  }, null, 2) + "\n";
}
