// The moddle extensions the studio reads and writes BPMN with: Camunda 7's (candidate groups,
// form keys, ... as Camunda Modeler writes them) and the SpiffWorkflow elements the engine
// reads (a user task's form file and instructions, a service task's operation). Elements of
// other namespaces are kept as they are, untyped.
import camunda from "camunda-bpmn-moddle/resources/camunda.json";
import spiffworkflow from "./spiffworkflow.json";

export const moddleExtensions = { camunda, spiffworkflow };
