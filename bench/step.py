"""What one persisted step costs, against SpiffWorkflow alone (the engine's own floor).

(a) SpiffWorkflow alone, in memory: deserialize the default serialization (spec included),
    complete a user task, run engine steps, serialize.
(b) Propflow's engine alone, in memory: the same with the spec-less state and the sandbox.
(c) Propflow's service layer on the configured database (DATABASE_URL, else SQLite):
    services.task_complete, which locks, loads, steps, saves, syncs tasks and audit.

Every process is the same 10-user-task linear process. Run: make bench
(or .venv/bin/python bench/step.py --instances 100).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "server.settings")

TASKS = 10


def linear_bpmn(n: int) -> str:
    nodes, flows, refs = [], [], []
    ids = ["start"] + [f"task_{i}" for i in range(1, n + 1)] + ["end"]
    nodes.append('<bpmn:startEvent id="start"/>')
    for i in range(1, n + 1):
        nodes.append(f'<bpmn:userTask id="task_{i}" name="步骤 {i}"/>')
    nodes.append('<bpmn:endEvent id="end"/>')
    for a, b in zip(ids, ids[1:], strict=False):
        flows.append(f'<bpmn:sequenceFlow id="f_{a}_{b}" sourceRef="{a}" targetRef="{b}"/>')
    refs = "".join(f"<bpmn:flowNodeRef>{i}</bpmn:flowNodeRef>" for i in ids)
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  id="d" targetNamespace="http://propflow.example/bench">
  <bpmn:process id="bench_linear" isExecutable="true">
    <bpmn:laneSet id="ls"><bpmn:lane id="l" name="客服专员">{refs}</bpmn:lane></bpmn:laneSet>
    {"".join(nodes)}{"".join(flows)}
  </bpmn:process>
</bpmn:definitions>"""


def source():
    from engine import ProcessSource

    return ProcessSource(
        key="bench_linear", process_id="bench_linear",
        names={"zh-hans": "基准", "en": "Benchmark"}, lanes={"客服专员": "frontdesk"},
        start_form=None, start_roles=["frontdesk"], business_key="unit",
        bpmn_name="bench_linear.bpmn", bpmn=linear_bpmn(TASKS),
        glossary={f"task_{i}": f"Step {i}" for i in range(1, TASKS + 1)},
    )  # fmt: skip


def spiff_alone(instances: int) -> tuple[list[float], int]:
    from SpiffWorkflow.bpmn import BpmnWorkflow
    from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
    from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
    from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
    from SpiffWorkflow.util.task import TaskState

    parser = SpiffBpmnParser()
    parser.add_bpmn_str(linear_bpmn(TASKS).encode())
    spec = parser.get_spec("bench_linear")
    ser = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))
    steps, size = [], 0
    for _ in range(instances):
        wf = BpmnWorkflow(spec, {})
        wf.do_engine_steps()
        state = ser.serialize_json(wf)
        for _ in range(TASKS):
            t0 = time.perf_counter()
            wf = ser.deserialize_json(state)
            wf.get_tasks(state=TaskState.READY, manual=True)[0].run()
            wf.do_engine_steps()
            state = ser.serialize_json(wf)
            steps.append(time.perf_counter() - t0)
            size = max(size, len(state.encode()))
    return steps, size


def engine_alone(instances: int) -> tuple[list[float], int]:
    from engine import Engine

    eng, src = Engine(), source()
    steps, size = [], 0
    for _ in range(instances):
        result = eng.start(src, {})
        for _ in range(TASKS):
            t0 = time.perf_counter()
            result = eng.complete(src, result.state, result.ready[0].id, {})
            steps.append(time.perf_counter() - t0)
            size = max(size, len(result.state.encode()))
    return steps, size


class Services:
    """(c): the service layer on a throw-away copy of the configured database."""

    def __enter__(self):
        import django

        django.setup()
        from django.contrib.auth.models import Group, User
        from django.db import connection

        from server.flows.definitions.services import process_deploy

        self.connection = connection
        self.old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
        process_deploy(source=source())
        self.user = User.objects.create_user("bench", password="x")
        self.user.groups.add(Group.objects.get_or_create(name="frontdesk")[0])
        return self

    def __exit__(self, *exc):
        self.vendor = self.connection.vendor
        self.connection.creation.destroy_test_db(self.old_name, verbosity=0)

    def run(self, instances: int) -> tuple[list[float], int, list[int]]:
        from django.db import reset_queries
        from django.test.utils import CaptureQueriesContext

        from server.flows.cases import services
        from server.flows.models import HumanTask, ProcessInstance

        steps, size, queries = [], 0, []
        for _ in range(instances):
            instance = services.instance_start(
                process_key="bench_linear", started_by=self.user, data={}
            )
            for _ in range(TASKS):
                task_id = (
                    HumanTask.objects.filter(instance=instance, status="open")
                    .values_list("pk", flat=True).get()
                )  # fmt: skip
                if not queries:  # count on one step; the debug cursor would skew the timing
                    with CaptureQueriesContext(self.connection) as captured:
                        services.task_complete(task_id=task_id, user=self.user, data={})
                    queries.append(len(captured.captured_queries))
                    reset_queries()
                    continue
                t0 = time.perf_counter()
                services.task_complete(task_id=task_id, user=self.user, data={})
                steps.append(time.perf_counter() - t0)
            stored = ProcessInstance.objects.get(pk=instance.pk).state
            size = max(size, len(bytes(stored)))
        return steps, size, queries


def ms(values: list[float]) -> str:
    values = sorted(values)
    p99 = values[int(len(values) * 0.99) - 1]
    return (
        f"median {statistics.median(values) * 1000:.3f} ms, "
        f"mean {statistics.mean(values) * 1000:.3f} ms, p99 {p99 * 1000:.3f} ms"
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instances", type=int, default=200, help="per round")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    print(f"{platform.node()}: {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"{args.rounds} rounds x {args.instances} instances x {TASKS} user tasks, interleaved")
    spiff, ours, served, queries = [], [], [], []
    with Services() as svc:
        svc.run(10), spiff_alone(10), engine_alone(10)  # warm up
        for _ in range(args.rounds):
            steps, spiff_size = spiff_alone(args.instances)
            spiff += steps
            steps, our_size = engine_alone(args.instances)
            ours += steps
            steps, served_size, counted = svc.run(args.instances)
            served += steps
            queries += counted
    floor = statistics.median(spiff)
    print(f"database: {svc.vendor}")
    print(f"(a) SpiffWorkflow alone:       {ms(spiff)}; state {spiff_size} bytes")
    print(f"(b) Propflow engine alone:     {ms(ours)}; state {our_size} bytes")
    print(f"(c) through the service layer: {ms(served)}; {statistics.mean(queries):.1f} queries")
    print(f"ratio (b)/(a): {statistics.median(ours) / floor:.2f}x")
    print(f"ratio (c)/(a): {statistics.median(served) / floor:.2f}x  (target <= 3x, goal 2x)")
    print(
        f"stored state per instance: {served_size} bytes vs {spiff_size} default "
        f"({served_size / spiff_size:.0%}; target <= 50%)"
    )


if __name__ == "__main__":
    main()
