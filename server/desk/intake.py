"""A hotline call becomes a case (one click at the desk): the call's values through the one
start path, and the call linked to the case it became.

It joins two verbs (the desk's and the cases'), so it sits above both, with the timers.
"""

from __future__ import annotations

from server.flows.cases import services as cases
from server.flows.models import ProcessInstance

from . import selectors, services


def call_convert(*, user, call_id, data: dict | None = None) -> ProcessInstance:
    """Start the complaint or repair case a call is, with what the call says and ``data``
    (the start form's other fields; a value given there wins), and link the call to it. A
    call becomes one case: a second conversion, or one while the first is starting, is
    refused (409) and starts nothing; a start that fails leaves the call as it was."""
    call, process = services.call_claim(user=user, call_id=call_id)
    try:
        instance = cases.instance_start(
            process_key=process, started_by=user,
            data={**selectors.call_start_data(call), **(data or {})},
        )  # fmt: skip
    except BaseException:
        services.call_release(call=call)
        raise
    services.call_link(call=call, instance=instance)
    return instance
