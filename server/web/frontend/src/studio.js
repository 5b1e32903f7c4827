// The process studio's editor (/studio/<key>/edit/): bpmn-js's modeler with Camunda 7's
// properties panel and bpmnlint, and a side panel for the package: the selected task's
// form, lanes and candidate groups mapped to roles, the forms as JSON Schema (previewed by
// the server), the problems Validate and Deploy report, marked on the canvas, and the
// package's rehearsals played on the draft (their timeline below the editor).
import BpmnModeler from "bpmn-js/lib/Modeler";
import { is } from "bpmn-js/lib/util/ModelUtil";
import {
  BpmnPropertiesPanelModule,
  BpmnPropertiesProviderModule,
  CamundaPlatformPropertiesProviderModule,
} from "bpmn-js-properties-panel";
import CamundaBehaviorsModule from "camunda-bpmn-js-behaviors/lib/camunda-platform";
import lintModule from "bpmn-js-bpmnlint";
import lintConfig from "./.bpmnlintrc";
import flowRefsModule from "./flow-refs.js";

import "bpmn-js/dist/assets/diagram-js.css";
import "bpmn-js/dist/assets/bpmn-js.css";
import "bpmn-js/dist/assets/bpmn-font/css/bpmn.css";
import "@bpmn-io/properties-panel/assets/properties-panel.css";
import "bpmn-js-bpmnlint/dist/assets/css/bpmn-js-bpmnlint.css";

import { client } from "./api.js";
import { moddleExtensions } from "./moddle.js";
import { FORMS, bpmnName, formNames, manifestLanes, newFormSchema } from "./package.js";
import { COLUMNS, REHEARSALS, rehearsalNames, timelineRows } from "./rehearse.js";
import { setTaskForm, taskForm } from "./spiff.js";

const $ = (id) => document.getElementById(id);

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") node.className = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else if (v !== undefined && v !== null && v !== false) node.setAttribute(k, v === true ? "" : v);
  }
  node.append(...children.filter((c) => c !== null && c !== undefined));
  return node;
}

function format(template, values) {
  return template.replace(/%\((\w+)\)s/g, (_, k) => String(values[k] ?? ""));
}

class Studio {
  constructor(root) {
    this.root = root;
    this.key = root.dataset.key;
    this.version = Number(root.dataset.version) || null;
    this.text = JSON.parse($("studio-text").textContent);
    this.roles = JSON.parse($("studio-roles").textContent);
    this.lang = document.documentElement.lang === "en" ? "en" : "zh-hans";
    this.api = client(root.dataset.api, root.dataset.csrf);
    this.pkg = { files: {}, mapping: {}, note: "" };
    this.currentFile = null;
    this.problemIds = [];
    this.modeler = new BpmnModeler({
      container: $("studio-canvas"),
      propertiesPanel: { parent: $("studio-properties") },
      additionalModules: [
        BpmnPropertiesPanelModule,
        BpmnPropertiesProviderModule,
        CamundaPlatformPropertiesProviderModule,
        CamundaBehaviorsModule,
        flowRefsModule,
        lintModule,
      ],
      moddleExtensions,
      linting: { bpmnlint: lintConfig, active: true },
    });
    window.propflowStudio = this; // for the browser tests and the curious
  }

  t(key, values) {
    return values ? format(this.text[key] || key, values) : this.text[key] || key;
  }

  status(message, kind = "") {
    const box = $("studio-status");
    box.textContent = message;
    box.className = "studio-status " + kind;
  }

  async start() {
    let answer = await this.api.draft(this.key);
    let fromDraft = answer.ok;
    if (!answer.ok && this.version) answer = await this.api.version(this.key, this.version);
    if (!answer.ok) {
      this.status(this.t("load_failed", { status: answer.status }), "error");
      return;
    }
    const data = answer.data;
    this.pkg = {
      files: { ...data.files },
      mapping: { ...(data.mapping || {}) },
      note: data.note || "",
    };
    if (!this.pkg.mapping.roles) {
      this.pkg.mapping.roles = manifestLanes(this.pkg.files["process.toml"]);
    }
    $("studio-note").value = fromDraft ? this.pkg.note : "";
    $("studio-discard").hidden = !fromDraft;
    this.bpmn = bpmnName(this.pkg.files);
    try {
      await this.modeler.importXML(this.pkg.files[this.bpmn]);
    } catch (err) {
      this.status(this.t("import_failed", { message: err.message }), "error");
      return;
    }
    this.modeler.get("canvas").zoom("fit-viewport");
    this.wire();
    this.renderFiles();
    this.renderRoles();
    this.renderTaskForm();
    this.status(fromDraft ? this.t("loaded_draft")
      : this.t("loaded_version", { version: this.version }));
    this.root.dataset.ready = "1";
    // A refused upload opens here with ?validate=1: its problems, marked on the diagram.
    if (new URLSearchParams(window.location.search).get("validate") === "1") {
      await this.deploy(true);
    }
  }

  wire() {
    const bus = this.modeler.get("eventBus");
    bus.on("selection.changed", () => this.renderTaskForm());
    let pending = null;
    bus.on("commandStack.changed", () => {
      this.edited = true;
      clearTimeout(pending);
      pending = setTimeout(() => { this.renderRoles(); this.renderTaskForm(); }, 150);
    });
    $("studio-save").addEventListener("click", () => this.saveDraft());
    $("studio-discard").addEventListener("click", () => this.discardDraft());
    $("studio-validate").addEventListener("click", () => this.deploy(true));
    $("studio-deploy").addEventListener("click", () => this.deploy(false));
    $("studio-task-form-select").addEventListener("change", (e) => {
      const element = this.selectedTask();
      if (element) setTaskForm(this.modeler, element, e.target.value);
    });
    $("studio-file-text").addEventListener("input", (e) => {
      if (!this.currentFile) return;
      this.pkg.files[this.currentFile] = e.target.value;
      this.preview();
    });
    $("studio-rehearse").addEventListener("submit", (e) => {
      e.preventDefault();
      this.rehearse();
    });
    $("studio-new-form").addEventListener("submit", (e) => {
      e.preventDefault();
      this.addForm($("studio-new-form-name").value);
    });
  }

  // -- the package as it stands ------------------------------------------------------------

  // The package to send: the diagram as it stands, the roles of the lanes and groups it
  // still has (the choices stay in this.pkg, should a lane come back on undo).
  async collect() {
    if (this.edited) {  // else the text as loaded: an untouched diagram is no new version
      this.pkg.files[this.bpmn] = (await this.modeler.saveXML({ format: true })).xml;
    }
    this.pkg.note = $("studio-note").value;
    const names = new Set(this.mappable().map((m) => m.name));
    const roles = {};
    for (const [name, role] of Object.entries(this.pkg.mapping.roles || {})) {
      if (names.has(name) && role) roles[name] = role;
    }
    return { ...this.pkg, files: { ...this.pkg.files }, mapping: { ...this.pkg.mapping, roles } };
  }

  async saveDraft() {
    const pkg = await this.collect();
    const answer = await this.api.saveDraft(this.key, pkg);
    if (answer.ok) {
      this.status(this.t("draft_saved"), "ok");
      $("studio-discard").hidden = false;
    }
    else this.status(this.t("failed", { status: answer.status, detail: answer.data?.detail || "" }), "error");
    return answer.ok;
  }

  async deploy(dryRun) {
    const pkg = await this.collect();
    this.status(dryRun ? this.t("validating") : this.t("deploying"));
    const answer = await this.api.deploy(pkg, { dryRun });
    const data = answer.data || {};
    if (answer.status === 400 && Array.isArray(data.errors)) {
      this.showProblems(data.errors, data.warnings || []);
      this.status(data.detail || this.t("has_problems"), "error");
      return;
    }
    if (!answer.ok) {
      this.showProblems([], []);
      this.status(this.t("failed", { status: answer.status, detail: data.detail || "" }), "error");
      return;
    }
    this.showProblems([], data.warnings || []);
    if (!dryRun) this.dropDraft();  // deployed: the next visit starts from the version
    if (dryRun) {
      this.status(this.t("valid"), "ok");
    } else if (data.created) {
      const before = this.version;
      this.version = data.version;
      this.root.dataset.version = String(data.version);
      this.status(this.t("deployed", { version: data.version }), "ok");
      if (before) this.diffLink(before, data.version);
    } else {
      this.status(this.t("unchanged", { version: data.version }), "ok");
    }
  }

  async dropDraft() {
    const answer = await this.api.dropDraft(this.key);
    $("studio-discard").hidden = true;
    return answer;
  }

  async discardDraft() {
    const answer = await this.dropDraft();
    if (answer.ok || answer.status === 404) window.location.reload();
    else this.status(this.t("failed", { status: answer.status, detail: answer.data?.detail || "" }), "error");
  }

  diffLink(a, b) {
    const href = this.root.dataset.diff.replace("/0/0/", `/${a}/${b}/`);
    $("studio-status").append(" ", el("a", { href, id: "studio-diff-link" },
      this.t("see_diff", { a, b })));
  }

  // -- problems, on the list and on the canvas ----------------------------------------------

  showProblems(errors, warnings) {
    const canvas = this.modeler.get("canvas");
    const overlays = this.modeler.get("overlays");
    const registry = this.modeler.get("elementRegistry");
    for (const id of this.problemIds) {
      if (registry.get(id)) canvas.removeMarker(id, "pf-problem");
    }
    overlays.remove({ type: "pf-problem" });
    this.problemIds = [];
    const list = $("studio-problems");
    list.replaceChildren();
    const item = (problem, kind) => {
      const element = problem.element && registry.get(problem.element);
      const where = [problem.file, problem.line && `${this.t("line")} ${problem.line}`,
        problem.element].filter(Boolean).join(" · ");
      const li = el("li", { class: kind, "data-element": problem.element || null },
        where ? el("span", { class: "where" }, where) : null,
        el("span", { class: "message" }, problem.message || String(problem)));
      const file = !element && problem.file && Object.keys(this.pkg.files).find((name) =>
        name !== this.bpmn && (name === problem.file || name.endsWith(`/${problem.file}`)));
      const open = element ? () => this.select(element) : file ? () => this.openFile(file) : null;
      if (open) {
        li.tabIndex = 0;
        li.addEventListener("click", open);
        li.addEventListener("keydown", (e) => { if (e.key === "Enter") open(); });
      }
      if (element) {
        if (kind === "error" && !this.problemIds.includes(element.id)) {
          this.problemIds.push(element.id);
          canvas.addMarker(element.id, "pf-problem");
          overlays.add(element.id, "pf-problem", {
            position: { top: -12, right: 12 },
            html: el("span", { class: "pf-problem-badge", title: problem.message }, "!"),
          });
        }
      }
      list.append(li);
    };
    errors.forEach((p) => item(p, "error"));
    warnings.forEach((w) => item(typeof w === "string" ? { message: w } : w, "warning"));
    $("studio-problems-box").hidden = !errors.length && !warnings.length;
  }

  select(element) {
    this.modeler.get("selection").select(element);
    this.modeler.get("canvas").scrollToElement(element);
  }

  // -- the selected task's form --------------------------------------------------------------

  selectedTask() {
    const selected = this.modeler.get("selection").get();
    return selected.length === 1 && is(selected[0], "bpmn:UserTask") ? selected[0] : null;
  }

  renderTaskForm() {
    const element = this.selectedTask();
    const box = $("studio-task-form");
    box.hidden = !element;
    if (!element) return;
    $("studio-task-name").textContent = element.businessObject.name || element.id;
    const select = $("studio-task-form-select");
    const current = taskForm(element);
    const names = formNames(this.pkg.files).map((n) => n.slice(FORMS.length));
    if (current && !names.includes(current)) names.push(current);
    select.replaceChildren(
      el("option", { value: "" }, this.t("no_form")),
      ...names.map((n) => el("option", { value: n, selected: n === current }, n)),
    );
    select.value = current;
  }

  // -- lanes and candidate groups mapped to roles --------------------------------------------

  mappable() {
    const seen = new Map();
    for (const shape of this.modeler.get("elementRegistry").getAll()) {
      const bo = shape.businessObject;
      if (is(shape, "bpmn:Lane") && bo.name) seen.set(bo.name, "lane");
      if (is(shape, "bpmn:UserTask")) {
        for (const g of (bo.get("camunda:candidateGroups") || "").split(",")) {
          if (g.trim() && !seen.has(g.trim())) seen.set(g.trim(), "group");
        }
      }
    }
    return [...seen].map(([name, kind]) => ({ name, kind }));
  }

  renderRoles() {
    const body = $("studio-roles-body");
    const roles = this.pkg.mapping.roles || (this.pkg.mapping.roles = {});
    body.replaceChildren(...this.mappable().map(({ name, kind }) => {
      const select = el("select", { "data-name": name, "aria-label": name },
        el("option", { value: "" }, this.t("unmapped")),
        ...this.roles.map(([key, label]) =>
          el("option", { value: key, selected: roles[name] === key }, label)));
      select.value = roles[name] || "";
      select.addEventListener("change", () => {
        if (select.value) roles[name] = select.value;
        else delete roles[name];
        row.classList.toggle("unmapped", !select.value);
      });
      const row = el("tr", { class: roles[name] ? "" : "unmapped" },
        el("th", { scope: "row" }, name,
          el("span", { class: "kind" }, kind === "lane" ? this.t("lane") : this.t("group"))),
        el("td", {}, select));
      return row;
    }));
  }

  // -- rehearsals: a saved script played on the draft as it stands ---------------------------

  renderRehearsals() {
    const select = $("studio-rehearsal-select");
    const names = rehearsalNames(this.pkg.files);
    const wanted = this.currentFile?.startsWith(REHEARSALS) ? this.currentFile : select.value;
    select.replaceChildren(...names.map((n) =>
      el("option", { value: n }, n.slice(REHEARSALS.length))));
    if (names.includes(wanted)) select.value = wanted;
    select.disabled = $("studio-rehearse-run").disabled = !names.length;
  }

  outcome(message, kind) {
    const box = $("studio-rehearsal-outcome");
    box.hidden = !message;
    box.textContent = message || "";
    box.className = "rehearsal-outcome " + (kind || "");
  }

  // Save the draft (the package as it stands, the edited rehearsal with it), then play the
  // chosen rehearsal on it: the timeline and the expectations below the editor.
  async rehearse() {
    const name = $("studio-rehearsal-select").value;
    const file = name.slice(REHEARSALS.length);
    delete this.root.dataset.rehearsal;
    if (!name) {
      this.outcome(this.t("no_rehearsal"), "error");
      return;
    }
    let script;
    try {
      script = JSON.parse(this.pkg.files[name]);
    } catch (err) {
      this.outcome(this.t("rehearsal_not_json", { file, error: err.message }), "error");
      this.root.dataset.rehearsal = "invalid";
      return;
    }
    $("studio-rehearse-run").disabled = true;
    this.outcome(this.t("rehearsing"));
    try {
      if (!(await this.saveDraft())) {
        this.outcome(null);
        return;
      }
      const answer = await this.api.rehearse(this.key, { script, draft: true });
      const data = answer.data || {};
      if (answer.status === 400 && Array.isArray(data.errors?.errors)) {
        this.showProblems(data.errors.errors, data.errors.warnings || []);
        this.showRehearsal(file, null, []);
        this.outcome(this.t("draft_invalid"), "error");
        this.root.dataset.rehearsal = "invalid";
      } else if (answer.status === 400 && data.errors) {
        const problems = Object.values(data.errors).flat().map(String);
        this.showRehearsal(file, null, problems);
        this.outcome(this.t("rehearsal_invalid") + " " + (problems[0] || data.detail || ""), "error");
        this.root.dataset.rehearsal = "invalid";
      } else if (!answer.ok) {
        this.outcome(this.t("failed", { status: answer.status, detail: data.detail || "" }), "error");
        this.root.dataset.rehearsal = "error";
      } else {
        const count = data.expectations.length;
        const failed = data.expectations.filter((x) => !x.passed).length;
        this.outcome(failed ? this.t("rehearsal_failed", { file, failed, count })
          : this.t("rehearsal_passed", { file, count }), failed ? "error" : "ok");
        this.showRehearsal(file, data, []);
        this.root.dataset.rehearsal = data.passed ? "passed" : "failed";
      }
      this.status(this.t("draft_saved"), "ok");
    } finally {
      $("studio-rehearse-run").disabled = false;
    }
  }

  showRehearsal(file, answer, problems) {
    $("studio-rehearsal").hidden = false;
    $("studio-rehearsal-name").textContent = file;
    const list = $("studio-rehearsal-problems");
    list.hidden = !problems.length;
    list.replaceChildren(...problems.map((p) => el("li", { class: "error" }, p)));
    const label = Object.fromEntries(this.roles);
    const rows = answer ? timelineRows(answer, {
      t: (k, v) => this.t(k, v), lang: this.lang, roleLabel: (r) => label[r] || r,
    }) : [];
    $("studio-rehearsal-summary").textContent = answer ? (answer.escalation
      ? this.t("rehearsal_summary", { status: this.t(`status_${answer.status}`), level: answer.escalation })
      : this.t("rehearsal_no_level", { status: this.t(`status_${answer.status}`) })) : "";
    $("studio-rehearsal-head").replaceChildren(!rows.length ? "" :
      el("tr", {}, ...COLUMNS.map((c) => el("th", { scope: "col" }, this.t(`col_${c}`)))));
    $("studio-rehearsal-timeline").replaceChildren(...rows.map((row) =>
      el("tr", { class: `kind-${row.kind}`, "data-kind": row.kind },
        ...COLUMNS.map((c) => el("td", { "data-label": this.t(`col_${c}`), "data-col": c },
          row[c] || (c === "what" ? row.kind : ""))))));
    const expectations = answer?.expectations || [];
    $("studio-expectations-title").textContent = expectations.length ? this.t("expectations") : "";
    $("studio-rehearsal-expectations").replaceChildren(...expectations.map((x) =>
      el("li", { class: x.passed ? "passed" : "failed", "data-step": x.step, "data-expect": x.expect },
        el("span", { class: "verdict" }, x.passed ? this.t("passed") : this.t("failed_expectation")),
        el("span", { class: "where" }, `${this.t("col_step")} ${x.step} · ${this.t(`expect_${x.expect}`)}`),
        el("span", { class: "message" }, x.message))));
    $("studio-rehearsal").scrollIntoView({ block: "start" });
  }

  // -- the package's files: forms (previewed by the server), rehearsals, the manifest -------

  renderFiles() {
    const isForm = (n) => n.startsWith(FORMS);
    const names = Object.keys(this.pkg.files).filter((n) => n !== this.bpmn)
      .sort((a, b) => (isForm(b) - isForm(a)) || a.localeCompare(b));
    $("studio-files").replaceChildren(...names.map((name) =>
      el("li", {}, el("button", {
        type: "button", class: name === this.currentFile ? "link current" : "link",
        "data-file": name, onclick: () => this.openFile(name),
      }, isForm(name) ? name.slice(FORMS.length) : name))));
    this.renderRehearsals();
  }

  openFile(name) {
    this.currentFile = name;
    $("studio-file-editor").hidden = false;
    $("studio-file-name").textContent = name;
    $("studio-file-text").value = this.pkg.files[name];
    $("studio-form-preview-box").hidden = !name.startsWith(FORMS);
    $("studio-form-preview").replaceChildren();
    this.preview();
    this.renderFiles();
  }

  preview() {
    if (this.currentFile?.startsWith(FORMS)) {
      $("studio-file-text").dispatchEvent(new Event("studio:preview"));
    }
  }

  addForm(raw) {
    let name = raw.trim().replace(/\.json$/, "");
    if (!/^[A-Za-z0-9_-]+$/.test(name)) {
      this.status(this.t("bad_form_name"), "error");
      return;
    }
    const path = `${FORMS}${name}.json`;
    if (!(path in this.pkg.files)) this.pkg.files[path] = newFormSchema(name);
    $("studio-new-form-name").value = "";
    this.openFile(path);
    this.renderTaskForm();
  }
}

document.addEventListener("DOMContentLoaded", () => {
  const root = $("studio");
  if (root) new Studio(root).start();
});
