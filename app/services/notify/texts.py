"""The words of each kind of notification, in Chinese and English, filled from its params."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

#: kind -> (Chinese title, English title); ``{task}``, ``{project}``, ``{item}``, ``{stage}``, ``{due}`` …
TITLES: dict[str, tuple[str, str]] = {
    "task": ("新的待办：{task}（{project_name}）", "New task: {task} ({project_name})"),
    "correction": ("需要补正材料：{task}（{project_name}）", "Correction requested: {task} ({project_name})"),
    "supervision": ("督办：{task}（{project_name}）", "Supervision (督办): {task} ({project_name})"),
    "warning": ("时限预警：{item_name} 将于 {due} 到期", "Deadline warning: {item_name} is due {due}"),
    "overdue": ("已逾期：{item_name}（{project_code}）", "Overdue: {item_name} ({project_code})"),
    "result": ("{stage_name}阶段已办结：{result}", "Stage {stage_name_en} finished: {result_en}"),
}
BODIES: dict[str, tuple[str, str]] = {
    "task": ("项目 {project_code} 有一项新任务待您办理：{task}。{due_text}",
             "Project {project_code} has a new task for you: {task}.{due_text_en}"),
    "correction": ("审查部门要求补正材料（{task}），请登录查看一次性告知的内容并补正。{due_text}",
                   "The reviewing department asks for corrections ({task}); "
                   "sign in to read what is needed.{due_text_en}"),
    "supervision": ("项目 {project_code} 的事项需要督办：{task}。",
                    "An item of project {project_code} needs supervision: {task}."),
    "warning": ("项目 {project_code} 的事项 {item_name} 已用去办理时限的大部分（黄灯）。",
                "The item {item_name} of project {project_code} has used most of its time limit (yellow light)."),
    "overdue": ("项目 {project_code} 的事项 {item_name} 已超过办理时限（红灯），请督办。",
                "The item {item_name} of project {project_code} is past its time limit (red light)."),
    "result": ("项目 {project_code}（{project_name}）的{stage_name}阶段申请已办结，结果：{result}。",
               "The {stage_name_en} application of project {project_code} ({project_name}) is finished: {result_en}."),
}
RESULTS = {"approved": ("准予许可", "approved"), "refused": ("不予许可", "refused"),
           "rejected": ("不予受理", "not accepted"), "revoked": ("撤销", "revoked"),
           "completed": ("办结", "completed")}


class _Blank(dict):
    def __missing__(self, key: str) -> str:
        return ""


def _fill(template: str, params: Mapping[str, Any]) -> str:
    return template.format_map(_Blank(params))


def title(kind: str, params: Mapping[str, Any], english: bool = False) -> str:
    """The one-line title of a notification."""
    pair = TITLES.get(kind, ("{task}", "{task}"))
    return _fill(pair[1 if english else 0], params)


def body(kind: str, params: Mapping[str, Any], english: bool = False) -> str:
    """The sentence or two below the title."""
    pair = BODIES.get(kind, ("", ""))
    return _fill(pair[1 if english else 0], params)
