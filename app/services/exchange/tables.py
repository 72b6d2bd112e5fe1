"""The SPGL tables of the exchange: fields, required ones, code tables, parents and load order.

Field names are the national standard's as the vendors implement them
(``shared`` notes: 1.0/2.0 names, 3.0 fields where known).  Required-ness beyond
the keys is inferred and kept here, in one place, so it can be changed.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Field:
    """One column: name, Chinese label, kind (str, int, num, date, time), required, code table."""

    name: str
    label: str
    kind: str = "str"
    required: bool = False
    codes: str | None = None
    length: int = 200


@dataclass(frozen=True)
class Table:
    """One SPGL table: its 2-digit code (in LSH), fields, and the parent a row waits for.

    ``parent`` names the parent table and ``link`` the fields that find the
    parent row there (the same names in both tables).
    """

    name: str
    code: str
    label: str
    fields: tuple[Field, ...]
    parent: str | None = None
    link: tuple[str, ...] = ()
    extra_checks: tuple[str, ...] = field(default=())

    def field(self, name: str) -> Field | None:
        """The field called ``name``."""
        return next((f for f in self.fields if f.name == name), None)


def F(name, label, kind="str", required=False, codes=None, length=200) -> Field:  # noqa: N802 - a table literal
    return Field(name, label, kind, required, codes, length)


FLOW = Table("SPGL_DFXMSPLCXXB", "01", "地方审批流程", (
    F("SPLCBM", "审批流程编码", required=True, length=50), F("SPLCMC", "审批流程名称", required=True),
    F("SPLCBBH", "审批流程版本号", "num", True), F("SPLCSXSJ", "审批流程生效时间", "time", True),
    F("SPLCLX", "审批流程类型", "int", True, "SPLCLX"), F("SPLCSM", "审批流程说明", length=2000),
    F("FJMC", "流程图附件名称"), F("FJLX", "附件类型", length=20), F("FJID", "附件ID", length=100)))
STAGE = Table("SPGL_DFXMSPLCJDXXB", "02", "审批阶段", (
    F("SPLCBM", "审批流程编码", required=True, length=50), F("SPLCBBH", "审批流程版本号", "num", True),
    F("SPJDBM", "审批阶段编码", required=True, length=50), F("SPJDMC", "审批阶段名称", required=True),
    F("SPJDXH", "审批阶段序号", "int", True), F("DYBZSPJDXH", "对应标准审批阶段序号", "int", True, "DYBZSPJDXH"),
    F("SPJDSX", "审批阶段时限", "int"), F("LCBSXLX", "里程碑事项类型", "int")),
    parent=FLOW.name, link=("SPLCBM", "SPLCBBH"))
STAGE_ITEM = Table("SPGL_DFXMSPLCJDSXXXB", "03", "阶段审批事项", (
    F("SPLCBM", "审批流程编码", required=True, length=50), F("SPLCBBH", "审批流程版本号", "num", True),
    F("SPJDXH", "审批阶段序号", "int", True), F("SPSXBM", "审批事项编码", required=True, length=50),
    F("SPSXBBH", "审批事项版本号", required=True, length=20), F("SPSXMC", "审批事项名称", required=True),
    F("DYBZSPSXBM", "对应标准审批事项编码", length=50), F("SFSXGZCNZ", "是否实行告知承诺制", "int", True),
    F("BJLX", "办件类型", "int"), F("SQDX", "申请对象"), F("BLJGSDFS", "办理结果送达方式", length=20),
    F("SPSXBLSX", "审批事项办理时限", "int", True), F("SPBMBM", "审批部门编码", required=True, length=50),
    F("SPBMMC", "审批部门名称", required=True), F("QZSPSXBM", "前置审批事项编码", length=500),
    F("SFLCBSX", "是否里程碑事项", "int")),
    parent=STAGE.name, link=("SPLCBM", "SPLCBBH", "SPJDXH"))
PROJECT = Table("SPGL_XMJBXXB", "04", "项目基本信息", (
    F("XMDM", "项目代码", required=True, length=50), F("XMMC", "项目名称", required=True),
    F("GCDM", "工程代码", required=True, length=50), F("GCFW", "工程范围", length=2000),
    F("QJDGCDM", "前阶段工程代码", length=50), F("XMTZLY", "项目投资来源", "int", True, "XMTZLY"),
    F("TDHQFS", "土地获取方式", "int", True, "TDHQFS"), F("TDSFDSJFA", "土地是否带设计方案", "int", True),
    F("SFWCQYPG", "是否完成区域评估", "int", True), F("SPLCLX", "审批流程类型", "int", True, "SPLCLX"),
    F("LXLX", "立项类型", "int", True, "LXLX"), F("GCFL", "工程分类", "int", True, "GCFL"),
    F("JSXZ", "建设性质", "int", True, "JSXZ"), F("XMZJSX", "项目资金属性", "int", True, "XMZJSX"),
    F("GBHYDMFBND", "国标行业代码发布年代", required=True, length=4),
    F("GBHY", "国标行业", required=True, codes="GBHY"),
    F("NKGSJ", "拟开工时间", "date"), F("NJCSJ", "拟建成时间", "date"),
    F("XMSFWQBJ", "项目是否完全办结", "int", True), F("XMWQBJSJ", "项目完全办结时间", "time"),
    F("ZTZE", "总投资额（万元）", "num", True), F("JSDDXZQH", "建设地点行政区划", required=True, length=12),
    F("JSDD", "建设地点", required=True, length=500), F("XMJSDDX", "建设地点X坐标", "num"),
    F("XMJSDDY", "建设地点Y坐标", "num"), F("JSGMJNR", "建设规模及内容", required=True, length=2000),
    F("YDMJ", "用地面积（平方米）", "num", True), F("JZMJ", "建筑面积（平方米）", "num"),
    F("SBSJ", "申报时间", "time", True), F("SPLCBM", "审批流程编码", required=True, length=50),
    F("SPLCBBH", "审批流程版本号", "num", True), F("JSDW", "建设单位"), F("JSDWDM", "建设单位代码", length=18),
    F("JSDWLX", "建设单位类型", "int"), F("SFXXGC", "是否线性工程", "int"), F("CD", "长度（公里）", "num")),
    parent=FLOW.name, link=("SPLCBM", "SPLCBBH"), extra_checks=("start_before_finish",))
UNIT = Table("SPGL_XMDWXXB", "05", "项目单位", (
    F("XMDM", "项目代码", required=True, length=50), F("GCDM", "工程代码", required=True, length=50),
    F("DWTYSHXYDM", "单位统一社会信用代码", required=True, length=18), F("DWMC", "单位名称", required=True),
    F("DWLX", "单位类型", "int", True, "DWLX")),
    parent=PROJECT.name, link=("XMDM",))
ITEM = Table("SPGL_XMSPSXBLXXB", "06", "审批事项办理", (
    F("XMDM", "项目代码", required=True, length=50), F("GCDM", "工程代码", required=True, length=50),
    F("SPSXBM", "审批事项编码", required=True, length=50), F("SPSXBBH", "审批事项版本号", required=True, length=20),
    F("SPLCBM", "审批流程编码", required=True, length=50), F("SPLCBBH", "审批流程版本号", "num", True),
    F("SPSXSLBM", "审批事项实例编码", required=True, length=80), F("SPBMBM", "审批部门编码", required=True, length=50),
    F("SPBMMC", "审批部门名称", required=True), F("SLFS", "受理方式", "int", True, "SLFS"),
    F("GKFS", "公开方式", "int", True, "GKFS"), F("BLSPSLBM", "并联审批实例编码", length=80),
    F("SXBLSX", "事项办理时限", "int"), F("LXR", "联系人", length=50), F("LXRSJH", "联系人手机号", length=20),
    F("SLSJ", "受理时间", "time", True)),
    parent=PROJECT.name, link=("XMDM",))
DETAIL = Table("SPGL_XMSPSXBLXXXXB", "07", "审批事项办理详细", (
    F("GCDM", "工程代码", required=True, length=50), F("SPSXSLBM", "审批事项实例编码", required=True, length=80),
    F("BLCS", "办理处室", required=True), F("BLR", "办理人", required=True, length=50),
    F("BLZT", "办理状态", "int", True, "BLZT"), F("BLYJ", "办理意见", length=2000),
    F("BLSJ", "办理时间", "time", True), F("DWMC", "办理单位名称")),
    parent=ITEM.name, link=("SPSXSLBM",))
SPECIAL = Table("SPGL_XMSPSXBLTBCXXXB", "09", "特别程序", (
    F("GCDM", "工程代码", required=True, length=50), F("SPSXSLBM", "审批事项实例编码", required=True, length=80),
    F("TBCX", "特别程序", "int", True, "TBCX"), F("TBCXMC", "特别程序名称", required=True),
    F("TBCXKSSJ", "特别程序开始时间", "time", True), F("TBCXSXLX", "特别程序时限类型", "int", True),
    F("TBCXSX", "特别程序时限", "int", True), F("TBCXJSSJ", "特别程序结束时间", "time"),
    F("TBCXJG", "特别程序结果", length=2000)),
    parent=ITEM.name, link=("SPSXSLBM",))
DOCUMENT = Table("SPGL_XMSPSXPFWJXXB", "10", "批复文件", (
    F("GCDM", "工程代码", required=True, length=50), F("SPSXSLBM", "审批事项实例编码", required=True, length=80),
    F("PFRQ", "批复日期", "date", True), F("PFWH", "批复文号", required=True, length=100),
    F("PFWJBT", "批复文件标题"), F("PFWJYXQX", "批复文件有效期限", "date", True),
    F("BLZT", "办理状态", "int", True, "BLZT"), F("FJMC", "附件名称"), F("FJLX", "附件类型", length=20),
    F("FJID", "附件ID", length=100)),
    parent=ITEM.name, link=("SPSXSLBM",), extra_checks=("title_when_approved",))
MATERIAL = Table("SPGL_XMSQCLJQTFJXXB", "11", "申请材料及其他附件", (
    F("XMDM", "项目代码", required=True, length=50), F("GCDM", "工程代码", required=True, length=50),
    F("CLMC", "材料名称", required=True), F("CLFL", "材料分类", "int", True, "FJFL"),
    F("CLLX", "材料类型", required=True, length=50), F("CLID", "材料ID", required=True, length=100),
    F("SQFS", "收取方式", "int")),
    parent=PROJECT.name, link=("XMDM",))

#: SPGL 3.0: one intermediary service of a project (its field names are inferred from the other tables').
INTERMEDIARY = Table("SPGL_ZJFWSXBLXXB", "12", "中介服务事项办理信息", (
    F("XMDM", "项目代码", required=True, length=50), F("GCDM", "工程代码", required=True, length=50),
    F("ZJFWSXBM", "中介服务事项编码", required=True, length=50), F("ZJFWSXMC", "中介服务事项名称", required=True),
    F("ZJJGMC", "中介机构名称", required=True), F("ZJJGTYSHXYDM", "中介机构统一社会信用代码", required=True, length=18),
    F("XZFS", "选取方式", "int", True, "XZFS"), F("WTSJ", "委托时间", "time", True),
    F("CNBJSX", "承诺办结时限（工作日）", "int", True), F("CJSJ", "承接时间", "time"), F("JZSJ", "截止时间", "time"),
    F("TJCGSJ", "提交成果时间", "time"), F("FWZT", "服务状态", "int", True, "FWZT"), F("FWPJ", "服务评价", "int")),
    parent=PROJECT.name, link=("XMDM",))

#: Load order (a parent always before its children).
TABLES: tuple[Table, ...] = (FLOW, STAGE, STAGE_ITEM, PROJECT, UNIT, ITEM, DETAIL, SPECIAL, DOCUMENT, MATERIAL,
                             INTERMEDIARY)
BY_NAME = {t.name: t for t in TABLES}
ORDER = {t.name: i for i, t in enumerate(TABLES)}
