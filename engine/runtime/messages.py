"""SpiffWorkflow's own messages, in Chinese too.

The parser and the engine speak English ("At least one output required.", "No start
event found"). Process owners read the desk in Chinese first, so the messages they
meet in validation and process tests are given here as "中文 / English", like every
other engine message (``webforms`` shows the half of the page's language). A message
not listed keeps its English, after a Chinese lead-in saying where it came from.
"""

from __future__ import annotations

import re

# (pattern on the English text, Chinese): the first match wins
KNOWN = (
    (r"At least one output required", "网关或任务没有出口连线，流程会停在这里"),
    (r"No start event found", "流程缺少开始事件"),
    (r"Non-default exclusive outgoing sequence flow without condition", "排他网关的出口既不是默认流也没有条件"),
    (r"Multiple outgoing flows are not supported", "此类任务不支持多条出口连线"),
    (r"No \"calledElement\" attribute for Call Activity", "调用活动缺少被调用的流程"),
    (r"The process '([^']*)' was not found", r"找不到被调用的流程 \1"),
    (r"Duplicate process ID: (\S+)", r"流程 ID 重复：\1"),
    (r"Invalid Script Task\.\s+No Script Provided", "脚本任务没有脚本"),
    (r"Process (\S+) is not executable", r"流程 \1 不是可执行的"),
    (r"A SubWorkflow Must contain an End event", "子流程必须包含结束事件"),
    (r"Exactly one start event is required in a SubWorkflow Task", "子流程必须恰好有一个开始事件"),
    (r"Conditional event definition with missing condition", "条件事件缺少条件"),
    (r"Unknown Time Specification|Time Specification Error", "计时器的时间表达式无效"),
    (r"There is no support implemented for this task type", "不支持此类任务"),
    (r"Could not find messageRef", "找不到消息引用"),
    (r"Error identifier is missing", "错误事件缺少错误定义"),
    (r"Signal identifier is missing", "信号事件缺少信号定义"),
    (r"Message identifier is missing", "消息事件缺少消息定义"),
    (r"Escalation identifier is missing", "升级事件缺少升级定义"),
    (r"Script failed|NameError|Error evaluating expression", "脚本或表达式计算出错"),
    (r"Namespace prefix|not well-formed|XMLSyntaxError|mismatched tag", "XML 格式不正确"),
    (r"we found two items", "有两个元素使用了同一个 ID"),
    (r"No DMN|decision .* not found|Unable to find", "找不到引用的决策表"),
)


# where a "中文 / English" message turns from Chinese to English
_SEAM = re.compile(r"(?<=[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef])\s?/ ")


def halves(text: str) -> tuple[str, str] | None:
    """The Chinese and English halves of a bilingual message, or None when it is not one."""
    match = _SEAM.search(text or "")
    return (text[: match.start()].strip(), text[match.end():].strip()) if match else None


def bilingual(text: str) -> str:
    """``text`` as "中文 / English"; already bilingual text is returned as it is."""
    text = (text or "").strip()
    if not text or halves(text):
        return text
    for pattern, chinese in KNOWN:
        match = re.search(pattern, text)
        if match:
            return f"{match.expand(chinese)} / {text}"
    return f"流程引擎报错 / {text}"


def prefixed(chinese: str, english: str, message: str) -> str:
    """A lead-in on both halves: ("解析错误", "parse error", "缺少开始事件 / No start event") →
    "解析错误：缺少开始事件 / parse error: No start event"."""
    zh, en = halves(bilingual(message)) or (message, message)
    return f"{chinese}：{zh} / {english}: {en}"
