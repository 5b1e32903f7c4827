"""The domain's rules about people and data, in one place (shared domain.md).

Who is the next level of an escalation, who oversees every case and who only reads. The
engine's validation and the server's permissions, write path and pages all ask here. Which
form fields hold personal data is the forms' own word (``x-personal``, engine/personal.py).
"""

from __future__ import annotations

from .roles import ROLE_KEYS

# 重大問題實行三級負責制: 接待人 → 客服主管 → 主管副总经理. An escalation code names a
# level (the case moves up the chain) or a role key (a notice to that role).
ESCALATION_LEVELS: dict[str, tuple[int, str]] = {
    "level2": (2, "cs_supervisor"),
    "level3": (3, "vice_gm"),
}
ESCALATION_CODES = (*ESCALATION_LEVELS, *sorted(ROLE_KEYS))

# See every task and case, reassign tasks, cancel cases.
SUPERVISOR_ROLES = frozenset({"cs_supervisor", "vice_gm", "property_manager"})
# Own the flows: upload, edit, deploy, retire and roll back processes (the studio).
PROCESS_MANAGER_ROLES = frozenset({"property_manager"})
# Suspend, resume, terminate a case and move it to another version of its process: the
# supervisors and the property manager (superusers hold every role).
CASE_CONTROL_ROLES = SUPERVISOR_ROLES
# Take the owners' calls: they see an owner's name and phone when they look a unit up.
INTAKE_ROLES = frozenset({
    "frontdesk", "dispatcher", "cs_supervisor", "vice_gm", "property_manager", "relations",
})  # fmt: skip
# Read everything, change nothing.
READ_ONLY_ROLES = frozenset({"auditor"})


def escalated_to(roles, level: int) -> bool:
    """Whether a holder of ``roles`` is a level the case was escalated to (客服主管 from
    level 2, 主管副总经理 from level 3): they look into it, so they see its contacts."""
    return any(role in roles and level >= at for at, role in ESCALATION_LEVELS.values())
