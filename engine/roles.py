"""The roles of a customer-service centre (see shared domain.md): Django groups and BPMN lanes."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Role:
    key: str
    name_zh: str
    name_en: str


ROLES: tuple[Role, ...] = (
    Role("frontdesk", "客服专员", "Front desk"),
    Role("dispatcher", "调度员", "Dispatcher"),
    Role("cs_supervisor", "客服中心主管", "Customer-service supervisor"),
    Role("vice_gm", "主管副总经理", "Vice general manager"),
    Role("property_manager", "物业部经理", "Property manager"),
    Role("engineering", "工程部", "Engineering"),
    Role("technician", "维修工", "Technician"),
    Role("finance", "财务部", "Finance"),
    Role("security", "秩管门岗", "Security"),
    Role("relations", "客户关系管理员", "Customer relations"),
    Role("auditor", "质量内审", "Auditor"),
)

ROLE_KEYS = frozenset(r.key for r in ROLES)
