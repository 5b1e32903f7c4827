// Two versions of a process side by side (/studio/<key>/diff/<a>/<b>/): two bpmn-js viewers
// that scroll and zoom together, coloured by bpmn-js-differ (added, removed, changed, moved),
// and the list of the changes. Clicking a change centres both diagrams on it.
import NavigatedViewer from "bpmn-js/lib/NavigatedViewer";
import { ChangeHandler, diff } from "bpmn-js-differ";

import "bpmn-js/dist/assets/diagram-js.css";
import "bpmn-js/dist/assets/bpmn-js.css";
import "bpmn-js/dist/assets/bpmn-font/css/bpmn.css";

import { client } from "./api.js";
import { moddleExtensions } from "./moddle.js";
import { bpmnName } from "./package.js";

const $ = (id) => document.getElementById(id);

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") node.className = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else if (v !== undefined && v !== null) node.setAttribute(k, v);
  }
  node.append(...children.filter((c) => c !== null && c !== undefined));
  return node;
}

// Keep the two viewboxes equal: whichever moves, the other follows.
function sync(viewers) {
  let busy = false;
  for (const viewer of viewers) {
    viewer.on("canvas.viewbox.changed", ({ viewbox }) => {
      if (busy) return;
      busy = true;
      for (const other of viewers) {
        if (other !== viewer) other.get("canvas").viewbox(viewbox);
      }
      busy = false;
    });
  }
}

// bpmn-js's modeler shows an exclusive gateway's marker and writes isMarkerVisible="true" on
// its shape when a diagram written as XML is first saved: not a change anyone made.
const QUIET_DI = new Set(["isMarkerVisible"]);

class Changes extends ChangeHandler {
  changed(model, property, newValue, oldValue) {
    if (model.$instanceOf?.("bpmndi:BPMNShape") && QUIET_DI.has(property)) return;
    super.changed(model, property, newValue, oldValue);
  }
}

// "timeDate: deadline(…)": a timer event's definition as the properties panel shows it.
function timer(bo) {
  const definition = (bo?.eventDefinitions || []).find((d) => d.$type === "bpmn:TimerEventDefinition");
  if (!definition) return null;
  const kind = ["timeDate", "timeDuration", "timeCycle"].find((k) => definition[k]);
  return kind ? `${kind}: ${definition[kind].body || ""}` : "—";
}

function short(value) {
  if (value === undefined || value === null) return "—";
  if (typeof value === "object") value = value.body ?? value.id ?? value.$type ?? JSON.stringify(value);
  const s = String(value);
  return s.length > 80 ? s.slice(0, 77) + "…" : s;
}

document.addEventListener("DOMContentLoaded", async () => {
  const root = $("studio-diff");
  if (!root) return;
  const text = JSON.parse($("studio-text").textContent);
  const api = client(root.dataset.api, root.dataset.csrf);
  const key = root.dataset.key;
  const versions = [Number(root.dataset.a), Number(root.dataset.b)];
  const boxes = [$("diff-left"), $("diff-right")];
  const viewers = boxes.map((container) => new NavigatedViewer({ container, moddleExtensions }));

  const answers = await Promise.all(versions.map((n) => api.version(key, n)));
  const failed = answers.findIndex((a) => !a.ok);
  if (failed >= 0) {
    $("diff-status").textContent = text.load_failed.replace("%(status)s", answers[failed].status);
    return;
  }
  for (let i = 0; i < 2; i++) {
    const files = answers[i].data.files;
    await viewers[i].importXML(files[bpmnName(files)]);
    viewers[i].get("canvas").zoom("fit-viewport");
  }
  sync(viewers);
  viewers[1].get("canvas").viewbox(viewers[0].get("canvas").viewbox());

  const changes = diff(viewers[0].getDefinitions(), viewers[1].getDefinitions(), new Changes());
  const modelOf = (i, id) => viewers[i].get("elementRegistry").get(id)?.businessObject;
  const mark = (viewer, id, marker) => {
    if (viewer.get("elementRegistry").get(id)) viewer.get("canvas").addMarker(id, marker);
  };
  const rows = [];
  const row = (kind, id, model, attrs) => rows.push({ kind, id, model, attrs });
  for (const [id, model] of Object.entries(changes._removed)) {
    mark(viewers[0], id, "diff-removed");
    row("removed", id, model);
  }
  for (const [id, model] of Object.entries(changes._added)) {
    mark(viewers[1], id, "diff-added");
    row("added", id, model);
  }
  for (const [id, change] of Object.entries(changes._changed)) {
    viewers.forEach((v) => mark(v, id, "diff-changed"));
    const attrs = { ...change.attrs };
    const [before, after] = [timer(modelOf(0, id)), timer(modelOf(1, id))];
    if (before !== after) {
      for (const name of Object.keys(attrs)) if (name.startsWith("eventDefinitions")) delete attrs[name];
      attrs.timer = { oldValue: before, newValue: after };
    }
    row("changed", id, change.model, attrs);
  }
  for (const [id, model] of Object.entries(changes._layoutChanged)) {
    if (id in changes._changed) continue;
    viewers.forEach((v) => mark(v, id, "diff-layout-changed"));
    row("layout", id, model);
  }

  // A change clicked: both diagrams at full size, centred on it (the other follows).
  const focus = (id) => {
    const viewer = viewers.find((v) => v.get("elementRegistry").get(id)?.waypoints === undefined
      && v.get("elementRegistry").get(id)) || viewers.find((v) => v.get("elementRegistry").get(id));
    if (!viewer) return;
    const element = viewer.get("elementRegistry").get(id);
    const canvas = viewer.get("canvas");
    const box = canvas.viewbox();
    const scale = Math.max(box.scale, 1);
    const [width, height] = [box.outer.width / scale, box.outer.height / scale];
    const [x, y] = element.waypoints
      ? [element.waypoints[0].x, element.waypoints[0].y]
      : [element.x + element.width / 2, element.y + element.height / 2];
    canvas.viewbox({ x: x - width / 2, y: y - height / 2, width, height });
  };
  const list = $("diff-changes");
  list.replaceChildren(...rows.map(({ kind, id, model, attrs }) => el("tr",
    { class: `diff-${kind}`, "data-element": id, tabindex: "0",
      onclick: () => focus(id), onkeydown: (e) => { if (e.key === "Enter") focus(id); } },
    el("td", {}, el("span", { class: `diff-badge diff-${kind}` }, text[kind])),
    el("td", {}, (model && model.name) || id, el("span", { class: "muted" }, ` ${id}`)),
    el("td", {}, (model && model.$type || "").replace(/^bpmn:/, "")),
    el("td", {}, attrs ? el("ul", { class: "attrs" }, ...Object.entries(attrs).map(([name, c]) =>
      el("li", {}, el("code", {}, name), ": ", short(c.oldValue), " → ", short(c.newValue)))) : ""),
  )));
  $("diff-empty").hidden = rows.length > 0;
  root.dataset.ready = "1";
});
