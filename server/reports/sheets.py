"""The registers' and reports' columns and words, shared by the API's files and the pages:
codes as the reader's words (the newest forms' enum titles), times in site time, and the
headings in Chinese with their English alternative (as server/audit/export.py heads its
columns)."""

from __future__ import annotations

from django.utils import timezone

from engine.roles import ROLES as ROLE_LIST
from engine.text import pick
from server.desk.models import HotlineCall

from . import registers

SATISFACTION = {
    "very_satisfied": ["非常满意", "Very satisfied"], "satisfied": ["满意", "Satisfied"],
    "neutral": ["一般", "Neutral"], "unsatisfied": ["不满意", "Unsatisfied"],
}  # fmt: skip
STATUS_WORDS = registers.STATUS_WORDS
ROLES = {r.key: r for r in ROLE_LIST}
YES_NO = (["否", "No"], ["是", "Yes"])


def local_text(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M") if moment else ""


class Words:
    """Codes as the reader's words (enum titles of the newest forms), for files and pages."""

    def __init__(self, process: str, language: str):
        self.language = language
        self.fields = {name: registers.titles(process, name)
                       for name in ("trade", "category", "channel")}  # fmt: skip

    def __call__(self, field: str, value) -> str:
        if value in (None, ""):
            return ""
        return pick(self.fields.get(field, {}).get(str(value)), self.language, str(value))

    def said(self, value) -> str:
        return pick(SATISFACTION.get(value), self.language, value or "")

    def status(self, value) -> str:
        return pick(STATUS_WORDS.get(value), self.language, value)

    def role(self, key: str) -> str:
        role = ROLES.get(key)
        return pick([role.name_zh, role.name_en], self.language) if role else key

    def yes(self, value) -> str:
        return "" if value is None else pick(YES_NO[bool(value)], self.language)


REPAIR_COLUMNS = (
    ("Case", "案件"), ("Unit", "单元"), ("Location", "报修地点"), ("Reporter", "报修人"),
    ("Phone", "联系电话"), ("What", "报修内容"), ("Trade", "专业类别"), ("Urgent", "急修"),
    ("Reported", "报修时间"), ("Dispatched", "派工时间"), ("Dispatcher", "派单人"),
    ("Technician", "维修工"), ("Accepted", "接单时间"), ("Arrived", "到场时间"),
    ("Done", "完工时间"), ("Fee", "实收费用"), ("Satisfaction", "满意度"),
    ("Reworked", "返修"), ("Status", "状态"), ("Closed", "结案时间"),
)  # fmt: skip
COMPLAINT_COLUMNS = (
    ("Case", "案件"), ("Time", "时间"), ("Unit", "单元"), ("Complainant", "投诉人"),
    ("Phone", "联系电话"), ("Channel", "投诉方式"), ("Category", "投诉类别"),
    ("Type", "类型"), ("Content", "投诉内容"), ("Valid", "有效投诉"), ("Handler", "处理人"),
    ("Level", "级别"), ("Status", "状态"), ("Result", "处理结果"),
    ("Satisfaction", "回访满意度"), ("Closed", "结案时间"),
)  # fmt: skip


def headings(columns) -> list[str]:
    """Chinese headings with their English alternative, as the audit export's."""
    return [f"{zh} / {en}" for en, zh in columns]


def repair_cells(words: Words):
    def cells(row: dict) -> list:
        return [
            row["case"], row["unit"], row["location"], row["reporter"], row["phone"],
            row["description"], words("trade", row["trade"]), words.yes(row["urgent"]),
            local_text(row["reported_at"]), local_text(row["dispatched_at"]), row["dispatcher"],
            row["technician"], local_text(row["accepted_at"]), local_text(row["arrived_at"]),
            local_text(row["done_at"]), row["fee"] if row["fee"] is not None else "",
            words.said(row["satisfaction"]), words.yes(row["reworked"]),
            words.status(row["status"]), local_text(row["closed_at"]),
        ]  # fmt: skip

    return cells


def complaint_cells(words: Words):
    def cells(row: dict) -> list:
        return [
            row["case"], local_text(row["registered_at"]), row["unit"], row["complainant"],
            row["phone"], words("channel", row["channel"]), words("category", row["category"]),
            row["type"], row["description"], words.yes(row["valid"]),
            row["handler"] or words.role(row["handler_role"]),
            row["level"], words.status(row["status"]), row["result"],
            words.said(row["satisfaction"]), local_text(row["closed_at"]),
        ]  # fmt: skip

    return cells


CELLS = {"repair": (REPAIR_COLUMNS, repair_cells), "complaint": (COMPLAINT_COLUMNS,
                                                                 complaint_cells)}  # fmt: skip


def value_titles():
    """A split's value as [zh, en]: a trade, a category, a level, an answer, a call's kind."""
    trades = registers.titles("repair", "trade")
    kinds = registers.titles("complaint", "category")
    calls = {"enquiry": ["咨询", "Enquiry"], "advice": ["建议", "Advice"],
             "praise": ["表扬", "Praise"], "complaint": ["投诉", "Complaint"],
             "repair": ["报修", "Repair"], "other": ["其他", "Other"]}  # fmt: skip
    assert set(calls) == set(HotlineCall.Kind.values)

    def titles(split: str, value: str) -> list[str]:
        if split == "by_trade":
            return trades.get(value, [value, value])
        if split == "by_category":
            return kinds.get(value, [value, value])
        if split in ("escalated", "levels"):
            return [f"{value}级", f"level {value}"]
        if split == "split":
            return SATISFACTION.get(value, [value, value])
        if split == "by_kind":
            return calls.get(value, [value, value])
        return [value, value]

    return titles


MONTHLY_COLUMNS = (("Section", "项目"), ("Figure", "指标"), ("Value", "数值"))
