// `node src/roundtrip.mjs < diagram.bpmn`: the diagram read and written again by bpmn-moddle
// with the studio's extensions, as the editor saves it (tests/test_studio.py compares them).
import { readFileSync } from "node:fs";
import { BpmnModdle } from "bpmn-moddle";
import camunda from "camunda-bpmn-moddle/resources/camunda.json" with { type: "json" };
import spiffworkflow from "./spiffworkflow.json" with { type: "json" };

const moddle = new BpmnModdle({ camunda, spiffworkflow });
const { rootElement, warnings } = await moddle.fromXML(readFileSync(0, "utf8"));
for (const w of warnings) process.stderr.write(`warning: ${w.message}\n`);
const { xml } = await moddle.toXML(rootElement, { format: true });
process.stdout.write(xml);
