"""SPGL code tables (代码表), kept in the database and edited by administrators.

The seed holds what the vendors' code shows (``verified``) and, for the lists
whose meanings were not found in public text, values marked unverified so an
administrator can correct them.  ``is_default`` marks the value a project gets
when the platform records nothing more specific (e.g. the land acquisition
method, which no application form asks for).
"""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...errors import InvalidInput, NotFound
from ...models import ExchangeCode, User
from ..trail import audit

# table: [(code, name, is_default, verified), ...]
SEED: dict[str, list[tuple[str, str, bool, bool]]] = {
    "SPLCLX": [("1", "政府投资（房屋建筑类）", False, True), ("2", "政府投资（线性工程类）", False, True),
               ("3", "一般社会投资", False, True), ("4", "小型社会投资", False, True),
               ("5", "带方案出让用地", False, True), ("6", "工业", False, True), ("7", "交通", False, True),
               ("8", "水利", False, True), ("9", "能源", False, True), ("10", "其他", False, True)],
    "DYBZSPJDXH": [("1", "立项用地规划许可", False, True), ("2", "工程建设许可", False, True),
                   ("3", "施工许可", False, True), ("4", "竣工验收", False, True), ("5", "并行推进", False, True)],
    "BLZT": [(str(code), name, False, True) for code, name in (
        (1, "已接件"), (2, "已撤件"), (3, "窗口受理"), (4, "不受理"), (5, "不予受理"), (6, "补正开始"),
        (7, "补正结束"), (8, "部门受理"), (9, "特别程序开始"), (10, "特别程序结束"), (11, "办结（通过）"),
        (12, "办结（容缺通过）"), (13, "办结（不通过）"), (14, "撤回"), (15, "撤销"), (16, "撤件待确认"))],
    "LXLX": [("1", "审批", False, False), ("2", "核准", False, False), ("3", "备案", False, False)],
    "DWLX": [("1", "建设单位", True, True)],
    "XMTZLY": [("1", "政府投资", False, False), ("2", "社会投资", False, False)],
    "TDHQFS": [("1", "划拨", False, False), ("2", "出让", True, False), ("3", "租赁", False, False),
               ("9", "其他", False, False)],
    "GCFL": [("1", "房屋建筑工程", True, False), ("2", "市政基础设施工程", False, False),
             ("3", "交通工程", False, False), ("4", "水利工程", False, False), ("5", "能源工程", False, False),
             ("9", "其他", False, False)],
    "JSXZ": [("1", "新建", True, False), ("2", "扩建", False, False), ("3", "改建", False, False),
             ("4", "迁建", False, False)],
    "XMZJSX": [("1", "财政性资金", False, False), ("2", "非财政性资金", False, False)],
    "GBHY": [("E47", "房屋建筑业", True, False), ("E4710", "住宅房屋建筑", False, False),
             ("E4790", "其他房屋建筑业", False, False), ("E4813", "市政道路工程建筑", False, False)],
    "SLFS": [("1", "窗口受理", False, True), ("4", "网上受理", True, True)],
    "GKFS": [("1", "主动公开", True, False), ("2", "依申请公开", False, False), ("3", "不予公开", False, False)],
    "FJFL": [("1", "申请材料", True, False), ("2", "批复文件", False, False), ("9", "其他", False, False)],
    "TBCX": [("1", "专家评审", False, False), ("2", "听证", False, False), ("3", "检验检测", False, False),
             ("4", "现场勘验", False, False), ("5", "招标拍卖", False, False), ("6", "检疫", False, False),
             ("7", "鉴定", False, False), ("9", "其他", True, False)],
    # SPGL_ZJFWSXBLXXB (3.0): how the firm was chosen, and where the service stands
    "XZFS": [("1", "直接选取", True, False), ("2", "随机抽取", False, False)],
    "FWZT": [("1", "已委托", True, False), ("2", "已承接", False, False), ("3", "已提交成果", False, False),
             ("4", "已评价", False, False), ("5", "拒绝承接", False, False)],
}
CODE = re.compile(r"^[0-9A-Za-z]{1,20}$")


def tables(session: Session) -> dict[str, list[ExchangeCode]]:
    """Every code table with its entries, in table and code order."""
    out: dict[str, list[ExchangeCode]] = {}
    for entry in session.scalars(select(ExchangeCode).order_by(ExchangeCode.code_table, ExchangeCode.id)):
        out.setdefault(entry.code_table, []).append(entry)
    return out


class CodeBook:
    """The active codes of every table, read once per run."""

    def __init__(self, session: Session):
        self.active: dict[str, dict[str, str]] = {}
        self.defaults: dict[str, str] = {}
        for entry in session.scalars(select(ExchangeCode).where(ExchangeCode.active.is_(True))):
            self.active.setdefault(entry.code_table, {})[entry.code] = entry.name
            if entry.is_default:
                self.defaults[entry.code_table] = entry.code

    def valid(self, table: str, code: str) -> bool:
        """Whether ``code`` is an active entry of ``table``."""
        return code in self.active.get(table, {})

    def default(self, table: str) -> str | None:
        """The table's default code, if one is marked."""
        return self.defaults.get(table)

    def code_named(self, table: str, name: str) -> str | None:
        """The code whose name is ``name`` (e.g. a special procedure kind), or the default."""
        return next((c for c, n in self.active.get(table, {}).items() if n == name), self.default(table))


def save_code(session: Session, platform, actor: User, table: str, data: dict) -> ExchangeCode:
    """Add or change one entry of a code table (administrators; audited)."""
    if table not in SEED:
        raise NotFound(f"no code table {table}")
    code, name = str(data.get("code", "")).strip(), str(data.get("name", "")).strip()
    fields = {}
    if not CODE.match(code):
        fields["code"] = "1-20 letters or digits"
    if not name or len(name) > 100:
        fields["name"] = "1-100 characters"
    if fields:
        raise InvalidInput("the code entry is not valid", fields=fields)
    entry = session.scalar(select(ExchangeCode).where(ExchangeCode.code_table == table, ExchangeCode.code == code))
    if entry is None:
        entry = ExchangeCode(code_table=table, code=code, name=name, active=True, is_default=False, verified=False)
        session.add(entry)
    entry.name = name
    entry.active = bool(data.get("active", True))
    if data.get("is_default"):
        for other in session.scalars(select(ExchangeCode).where(ExchangeCode.code_table == table)):
            other.is_default = other is entry
    session.flush()
    audit.record(session, platform, "exchange_code_saved", actor=actor,
                 detail={"table": table, "code": code, "name": name, "active": entry.active,
                         "default": entry.is_default})
    return entry
