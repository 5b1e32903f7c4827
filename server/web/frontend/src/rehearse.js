// A rehearsal's answer (POST /api/processes/<key>/rehearse/, engine/rehearsal.py's
// Rehearsal.as_dict()) drawn for the editor: the timeline as a table in the reader's
// language, each expectation met or not, and the problems of a script that cannot be played.

export const REHEARSALS = "rehearsals/";

export function rehearsalNames(files) {
  return Object.keys(files).filter((n) => n.startsWith(REHEARSALS) && n.endsWith(".json")).sort();
}

// "2026-11-23T09:30:00+08:00" -> "2026-11-23 09:30": the site's zone, as the API gives it.
export function moment(text) {
  if (!text) return "";
  const m = String(text).match(/^(\d{4}-\d\d-\d\d)T(\d\d:\d\d)(:\d\d)?/);
  if (!m) return String(text);
  return m[3] && m[3] !== ":00" ? `${m[1]} ${m[2]}${m[3]}` : `${m[1]} ${m[2]}`;
}

// The timeline's rows: [time, step, what happened, task, role, due, level, who is told].
export function timelineRows(answer, { t, lang, roleLabel }) {
  const english = lang === "en";
  const named = (d) => (english && d.name_en) || d.name || d.name_en || d.task || d.timer || "";
  const taskNames = {};
  for (const e of answer.timeline || []) {
    if (e.task && (e.kind.startsWith("task_"))) taskNames[e.task] = named(e);
  }
  const taskName = (id) => (id ? taskNames[id] || id : "");
  const status = (s) => t(`status_${s}`);
  return (answer.timeline || []).map((e) => {
    const row = {
      kind: e.kind, at: moment(e.at), step: e.step ? String(e.step) : t("start"),
      what: "", task: "", role: "", due: "", level: "", told: "",
    };
    switch (e.kind) {
      case "started":
        row.what = t("kind_started");
        break;
      case "advanced":
        row.what = t("kind_advanced", { from: moment(e.from) });
        break;
      case "task_appeared":
      case "task_completed":
      case "task_cancelled":
        row.what = t(`kind_${e.kind}`);
        row.task = named(e);
        row.role = e.role ? roleLabel(e.role) : "";
        row.due = moment(e.due);
        break;
      case "timer_fired":
        row.what = t(e.reminder ? "kind_reminder_fired" : "kind_timer_fired", { name: named(e) });
        row.task = taskName(e.task);
        row.due = moment(e.due);
        break;
      case "escalated":
        row.what = t("kind_escalated", { level: e.level, role: roleLabel(e.role) });
        row.task = taskName(e.late_task);
        row.level = String(e.level);
        break;
      case "notified":
        row.what = t("kind_notified", { name: named(e) });
        row.task = taskName(e.late_task);
        row.level = e.level ? String(e.level) : "";
        row.told = e.role ? roleLabel(e.role) : "";
        break;
      case "effect":
        row.what = t("kind_effect", { operation: e.operation });
        break;
      case "ended":
        row.what = t("kind_ended", { status: status(e.status) });
        break;
      default:
        row.what = e.kind;
    }
    return row;
  });
}

export const COLUMNS = ["at", "step", "what", "task", "role", "due", "level", "told"];
