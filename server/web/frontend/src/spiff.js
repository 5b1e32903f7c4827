// A user task's form, as the engine reads it: the SpiffWorkflow property
// formJsonSchemaFilename (a file name in the package's forms/ folder), written through
// bpmn-js's modeling so it is undone and redone like any other edit.
import { is } from "bpmn-js/lib/util/ModelUtil";

const FORM = "formJsonSchemaFilename";

function propertiesOf(bo) {
  const values = bo.extensionElements?.values || [];
  return values.find((v) => is(v, "spiffworkflow:Properties"));
}

export function taskForm(element) {
  const props = propertiesOf(element.businessObject);
  return props?.properties?.find((p) => p.name === FORM)?.value || "";
}

export function setTaskForm(modeler, element, fileName) {
  const modeling = modeler.get("modeling");
  const moddle = modeler.get("moddle");
  const bo = element.businessObject;
  let ext = bo.extensionElements;
  if (!ext) {
    if (!fileName) return;
    ext = moddle.create("bpmn:ExtensionElements", { values: [] });
    ext.$parent = bo;
    modeling.updateProperties(element, { extensionElements: ext });
  }
  let props = propertiesOf(bo);
  if (!props) {
    if (!fileName) return;
    props = moddle.create("spiffworkflow:Properties", { properties: [] });
    props.$parent = ext;
    modeling.updateModdleProperties(element, ext, { values: [...ext.values, props] });
  }
  const existing = props.properties.find((p) => p.name === FORM);
  if (existing && fileName) {
    modeling.updateModdleProperties(element, existing, { value: fileName });
  } else if (existing) {
    modeling.updateModdleProperties(element, props, {
      properties: props.properties.filter((p) => p !== existing),
    });
  } else if (fileName) {
    const prop = moddle.create("spiffworkflow:Property", { name: FORM, value: fileName });
    prop.$parent = props;
    modeling.updateModdleProperties(element, props, { properties: [...props.properties, prop] });
  }
}
