"""Diagram layout (BPMN DI) for a diagram written as XML without one.

Managers draw in bpmn-js or Camunda Modeler, which write the layout
themselves; this lays out a diagram that was written by hand or generated, so
that it opens tidy in those tools: one band per lane, left to right in the
order of the flow, boundary events on the edge of their task, orthogonal
edges. ``python -m engine.layout FILE...`` rewrites the files in place.
:func:`missing` lists what a diagram has no layout for.
"""

from __future__ import annotations

import sys
from collections import defaultdict
from pathlib import Path

from lxml import etree

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
BPMNDI = "http://www.omg.org/spec/BPMN/20100524/DI"
DC = "http://www.omg.org/spec/DD/20100524/DC"
DI = "http://www.omg.org/spec/DD/20100524/DI"

EVENTS = {"startEvent", "endEvent", "intermediateThrowEvent", "intermediateCatchEvent"}
GATEWAYS = {"exclusiveGateway", "parallelGateway", "inclusiveGateway", "eventBasedGateway"}
ACTIVITIES = {
    "task", "userTask", "manualTask", "scriptTask", "serviceTask", "sendTask", "receiveTask",
    "businessRuleTask", "callActivity", "subProcess",
}  # fmt: skip
SIZES = {"event": (36, 36), "gateway": (50, 50), "activity": (100, 80)}
COLUMN, ROW, LEFT, TOP, LANE_LABEL = 150, 120, 160, 80, 30


def _q(ns: str, tag: str) -> str:
    return f"{{{ns}}}{tag}"


def _local(el) -> str:
    return etree.QName(el).localname


def _kind(tag: str) -> str | None:
    if tag in EVENTS or tag == "boundaryEvent":
        return "event"
    if tag in GATEWAYS:
        return "gateway"
    if tag in ACTIVITIES:
        return "activity"
    return None


def _columns(nodes: list[str], edges: list[tuple[str, str]], starts: list[str]) -> dict[str, int]:
    """Longest-path layers of the flow, with the edges that close loops left out."""
    out = defaultdict(list)
    for a, b in edges:
        out[a].append(b)
    back, state = set(), {}

    def visit(node):
        state[node] = "open"
        for nxt in out[node]:
            if state.get(nxt) == "open":
                back.add((node, nxt))
            elif nxt not in state:
                visit(nxt)
        state[node] = "done"

    for node in starts + nodes:
        if node not in state:
            visit(node)
    column = dict.fromkeys(nodes, 0)
    for _ in range(len(nodes)):  # relax until stable (the graph is small and acyclic now)
        changed = False
        for a, b in edges:
            if (a, b) not in back and column[b] < column[a] + 1:
                column[b], changed = column[a] + 1, True
        if not changed:
            break
    return column


def _bounds(parent, x, y, w, h):
    etree.SubElement(parent, _q(DC, "Bounds"), x=str(int(x)), y=str(int(y)),
                     width=str(int(w)), height=str(int(h)))  # fmt: skip


def _with_namespaces(root):
    """The same root, declaring the DI namespaces with their usual prefixes."""
    nsmap = {"bpmndi": BPMNDI, "dc": DC, "di": DI, **root.nsmap}
    if nsmap == root.nsmap:
        return root
    new = etree.Element(root.tag, attrib=dict(root.attrib), nsmap=nsmap)
    new.extend(list(root))
    return new


def layout(xml: bytes) -> bytes:
    """The diagram with a fresh layout for its first executable process."""
    root = _with_namespaces(etree.fromstring(xml))
    for old in root.findall(_q(BPMNDI, "BPMNDiagram")):
        root.remove(old)
    process = root.find(_q(BPMN, "process"))
    collaboration, participant = _participant(root, process)
    graph = _Graph(process)
    column = _columns(graph.placed, graph.edges, graph.starts)
    box, lane_top = _boxes(graph, column)
    pid = process.get("id")
    diagram = etree.SubElement(root, _q(BPMNDI, "BPMNDiagram"), id=f"Diagram_{pid}")
    plane = etree.SubElement(diagram, _q(BPMNDI, "BPMNPlane"), id=f"Plane_{pid}",
                             bpmnElement=collaboration.get("id"))  # fmt: skip
    width = LEFT + (max(column.values(), default=0) + 1) * COLUMN + 40
    _draw_pool(plane, participant, graph.lanes, lane_top, width)
    _draw_nodes(plane, graph, box)
    etree.indent(root, space="  ")
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8") + b"\n"


def _participant(root, process):
    """The collaboration and the process's participant (pool), made when missing."""
    pid = process.get("id")
    collaboration = root.find(_q(BPMN, "collaboration"))
    if collaboration is None:
        collaboration = etree.Element(_q(BPMN, "collaboration"), id=f"Collaboration_{pid}")
        root.insert(list(root).index(process), collaboration)
    participant = collaboration.find(_q(BPMN, "participant"))
    if participant is None:
        participant = etree.SubElement(collaboration, _q(BPMN, "participant"),
                                       id=f"Participant_{pid}", processRef=pid)  # fmt: skip
        if process.get("name"):
            participant.set("name", process.get("name"))
    return collaboration, participant


class _Graph:
    """The process's nodes (by kind), boundary events and their hosts, flows and lanes."""

    def __init__(self, process):
        self.kinds, self.hosts = {}, {}
        for el in process:
            kind = _kind(_local(el))
            if kind:
                self.kinds[el.get("id")] = kind
                if _local(el) == "boundaryEvent":
                    self.hosts[el.get("id")] = el.get("attachedToRef")
        self.flows = [(f.get("id"), f.get("sourceRef"), f.get("targetRef"))
                      for f in process.findall(_q(BPMN, "sequenceFlow"))]  # fmt: skip
        self.lanes = process.findall(f"{_q(BPMN, 'laneSet')}/{_q(BPMN, 'lane')}")
        self.lane_of = {}
        for i, lane in enumerate(self.lanes):
            for ref in lane.findall(_q(BPMN, "flowNodeRef")):
                self.lane_of[ref.text.strip()] = i
        self.placed = [n for n in self.kinds if n not in self.hosts]
        self.edges = [(self.hosts.get(a, a), b) for _, a, b in self.flows if b in self.kinds]
        self.starts = [el.get("id") for el in process.findall(_q(BPMN, "startEvent"))]


def _boxes(graph: _Graph, column: dict) -> tuple[dict, list]:
    """Each node's box (x, y, w, h), and the top of each lane (and the bottom of the last).

    A lane grows a sub-row for every node that shares a column with another."""
    slots: dict[tuple[int, int], list[str]] = defaultdict(list)
    for node in graph.placed:
        slots[(graph.lane_of.get(node, 0), column[node])].append(node)
    depth = [1] * max(1, len(graph.lanes))
    for (lane, _), members in slots.items():
        depth[lane] = max(depth[lane], len(members))
    lane_top = [TOP]
    for d in depth:
        lane_top.append(lane_top[-1] + d * ROW)
    box = {}
    for (lane, col), members in slots.items():
        for row, node in enumerate(members):
            w, h = SIZES[graph.kinds[node]]
            cx, cy = LEFT + col * COLUMN + COLUMN / 2, lane_top[lane] + row * ROW + ROW / 2
            box[node] = (cx - w / 2, cy - h / 2, w, h)
    on_host: dict[str, int] = defaultdict(int)
    for boundary, host in graph.hosts.items():
        hx, hy, hw, hh = box[host]
        k = on_host[host]
        on_host[host] += 1
        box[boundary] = (hx + hw - 28 - k * 40, hy + hh - 18, 36, 36)
    return box, lane_top


def _draw_pool(plane, participant, lanes, lane_top: list, width: float) -> None:
    shape = etree.SubElement(plane, _q(BPMNDI, "BPMNShape"), id=f"{participant.get('id')}_di",
                             bpmnElement=participant.get("id"), isHorizontal="true")  # fmt: skip
    _bounds(shape, LEFT - 2 * LANE_LABEL - 10, TOP, width - LEFT + 2 * LANE_LABEL + 10,
            lane_top[-1] - TOP)  # fmt: skip
    for i, lane in enumerate(lanes):
        shape = etree.SubElement(plane, _q(BPMNDI, "BPMNShape"), id=f"{lane.get('id')}_di",
                                 bpmnElement=lane.get("id"), isHorizontal="true")  # fmt: skip
        _bounds(shape, LEFT - LANE_LABEL - 10, lane_top[i], width - LEFT + LANE_LABEL + 10,
                lane_top[i + 1] - lane_top[i])  # fmt: skip


def _draw_nodes(plane, graph: _Graph, box: dict) -> None:
    for node in [*graph.placed, *graph.hosts]:
        x, y, w, h = box[node]
        shape = etree.SubElement(plane, _q(BPMNDI, "BPMNShape"), id=f"{node}_di",
                                 bpmnElement=node)  # fmt: skip
        _bounds(shape, x, y, w, h)
        if graph.kinds[node] != "activity":
            label = etree.SubElement(shape, _q(BPMNDI, "BPMNLabel"))
            _bounds(label, x + w / 2 - 40, y + h + 4, 80, 27)
    for flow_id, a, b in graph.flows:
        edge = etree.SubElement(plane, _q(BPMNDI, "BPMNEdge"), id=f"{flow_id}_di",
                                bpmnElement=flow_id)  # fmt: skip
        for px, py in _route(box[a], box[b], a in graph.hosts):
            etree.SubElement(edge, _q(DI, "waypoint"), x=str(int(px)), y=str(int(py)))


def _route(src, dst, from_boundary: bool) -> list[tuple[float, float]]:
    sx, sy, sw, sh = src
    tx, ty, tw, th = dst
    s_mid, t_mid = sy + sh / 2, ty + th / 2
    if from_boundary:
        bx, by = sx + sw / 2, sy + sh
        if tx > bx:
            return (
                [(bx, by), (bx, t_mid), (tx, t_mid)]
                if t_mid > by
                else [(bx, by), (bx, by + 20), (tx - 20, by + 20), (tx - 20, t_mid), (tx, t_mid)]
            )
        low = max(by, ty + th) + 20
        return [(bx, by), (bx, low), (tx + tw / 2, low), (tx + tw / 2, ty + th)]
    if tx >= sx + sw:  # forward
        if abs(s_mid - t_mid) < 1:
            return [(sx + sw, s_mid), (tx, t_mid)]
        mid = tx - 25
        return [(sx + sw, s_mid), (mid, s_mid), (mid, t_mid), (tx, t_mid)]
    low = max(sy + sh, ty + th) + 25  # a loop back: under both
    return [(sx + sw / 2, sy + sh), (sx + sw / 2, low), (tx + tw / 2, low), (tx + tw / 2, ty + th)]


def missing(xml: bytes) -> list[str]:
    """Ids of the flow nodes, flows and lanes that have no shape or edge in the diagram."""
    root = etree.fromstring(xml)
    drawn = {el.get("bpmnElement") for el in root.iter(_q(BPMNDI, "BPMNShape"),
                                                          _q(BPMNDI, "BPMNEdge"))}  # fmt: skip
    wanted = []
    for process in root.findall(_q(BPMN, "process")):
        for el in process.iter():
            if not isinstance(el.tag, str):
                continue
            tag = _local(el)
            if _kind(tag) or tag in {"sequenceFlow", "lane"}:
                wanted.append(el.get("id"))
    return [i for i in wanted if i not in drawn]


def main(paths: list[str]) -> int:
    for path in map(Path, paths):
        path.write_bytes(layout(path.read_bytes()))
        print(f"{path}: laid out")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
