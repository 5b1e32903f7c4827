// The case's diagram: bpmn-js's viewer, with done steps and the current position marked.
// It sits in a <details>: open on a wide screen, a tap away on a phone (a full diagram is
// illegible at 390 px; the step bar above says where the case stands). Drawn when first
// shown, since the viewer measures its box; zoomed with the buttons, the wheel or a pinch.
document.addEventListener("DOMContentLoaded", () => {
  const holder = document.querySelector(".diagram-box");
  const box = document.getElementById("diagram");
  const source = document.getElementById("bpmn-xml");
  if (!holder || !box || !source || !window.BpmnJS) return;
  let viewer = null;
  const draw = async () => {
    if (viewer) return;
    viewer = new window.BpmnJS({ container: box });
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
  };
  holder.querySelectorAll("[data-zoom]").forEach((button) => {
    button.addEventListener("click", () => {
      if (!viewer) return;
      const canvas = viewer.get("canvas");
      const how = button.dataset.zoom;
      if (how === "fit") canvas.zoom("fit-viewport");
      else canvas.zoom(canvas.zoom() * (how === "in" ? 1.25 : 0.8));
    });
  });
  holder.addEventListener("toggle", () => { if (holder.open) draw(); });
  if (window.matchMedia("(min-width: 760px)").matches) holder.open = true;
  if (holder.open) draw();
});
