// The case's diagram: bpmn-js's viewer, with done steps and the current position marked.
document.addEventListener("DOMContentLoaded", async () => {
  const box = document.getElementById("diagram");
  const source = document.getElementById("bpmn-xml");
  if (!box || !source || !window.BpmnJS) return;
  const viewer = new window.BpmnJS({ container: box });
  try {
    await viewer.importXML(JSON.parse(source.textContent));
  } catch (err) {
    box.textContent = "The diagram could not be drawn: " + err.message;
    return;
  }
  const canvas = viewer.get("canvas");
  const registry = viewer.get("elementRegistry");
  const mark = (ids, marker) => ids.split(" ").filter((id) => id && registry.get(id))
    .forEach((id) => canvas.addMarker(id, marker));
  mark(box.dataset.done || "", "pf-done");
  mark(box.dataset.active || "", "pf-active");
  canvas.zoom("fit-viewport");
  box.dataset.ready = "1";
});
