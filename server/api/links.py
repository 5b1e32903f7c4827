"""OpenAPI links: which answer gives the ids another operation takes (the first row of a
page, a new case's first task). Clients and schemathesis's stateful tests follow them;
drf-spectacular cannot declare them on a view, so this hook adds them to the document.
"""

from __future__ import annotations

FIRST_ROW = "$response.body#/results/0/"
FIRST_TASK = "$response.body#/tasks/0/id"

# operationId -> (its answer's status, [(the operation it feeds, that one's path parameter,
# where the value is in the answer)]). Links schemathesis infers by itself are not repeated.
LINKS = {
    "instances_list": ("200", [
        ("instances_retrieve", "instance_id", FIRST_ROW + "id"),
        ("instances_events", "instance_id", FIRST_ROW + "id"),
        ("instances_diagram", "instance_id", FIRST_ROW + "id"),
        ("instances_cancel", "instance_id", FIRST_ROW + "id"),
        ("instances_suspend", "instance_id", FIRST_ROW + "id"),
        ("instances_resume", "instance_id", FIRST_ROW + "id"),
        ("instances_terminate", "instance_id", FIRST_ROW + "id"),
        ("instances_migrate", "instance_id", FIRST_ROW + "id"),
    ]),
    "instances_create": ("201", [
        ("tasks_retrieve", "task_id", FIRST_TASK),
        ("tasks_claim", "task_id", FIRST_TASK),
        ("tasks_complete", "task_id", FIRST_TASK),
    ]),
    "notifications_list": ("200", [
        ("instances_retrieve", "instance_id", FIRST_ROW + "instance"),
        ("tasks_retrieve", "task_id", FIRST_ROW + "task"),
    ]),
}  # fmt: skip


def add_links(result, generator, request, public):
    """A drf-spectacular POSTPROCESSING_HOOKS entry."""
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            status, links = LINKS.get(operation.get("operationId"), (None, []))
            if links:
                operation["responses"][status]["links"] = {
                    _name(target): {"operationId": target, "parameters": {parameter: value}}
                    for target, parameter, value in links
                }
    return result


def _name(operation_id: str) -> str:
    """``tasks_claim`` -> ``TasksClaim``: a link's name."""
    return "".join(part.title() for part in operation_id.split("_"))
