// Diagrams written as XML (processes/*) name each sequence flow's source and target but not
// the nodes' <incoming>/<outgoing>, which Camunda Modeler writes and bpmnlint reads: without
// them every node would be "not connected". On import the nodes get them from the flows, as
// the modeler keeps them from then on; the engine reads the flows and ignores these.
import { is } from "bpmn-js/lib/util/ModelUtil";

function FlowRefs(eventBus, elementRegistry) {
  eventBus.on("import.done", () => {
    for (const element of elementRegistry.getAll()) {
      const flow = element.businessObject;
      if (!is(flow, "bpmn:SequenceFlow")) continue;
      const add = (node, name) => {
        if (!node) return;
        const list = node.get(name);
        if (!list.includes(flow)) list.push(flow);
      };
      add(flow.sourceRef, "outgoing");
      add(flow.targetRef, "incoming");
    }
  });
}
FlowRefs.$inject = ["eventBus", "elementRegistry"];

export default { __init__: ["flowRefs"], flowRefs: ["type", FlowRefs] };
