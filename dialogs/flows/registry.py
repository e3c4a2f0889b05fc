"""Build every guided flow from the knowledge base (called once by bot.wiring.load_flows)."""

from __future__ import annotations

from dialogs.flows.base import Flow
from dialogs.flows.machine import GuidedFlow
from dialogs.flows.questions import flow_texts
from dialogs.flows.steps import StepsFlow
from dialogs.flows.suzhou import SuzhouFlow
from dialogs.flows.tianjin import TianjinFlow
from knowledge.loader import KnowledgeBase

FLOW_CLASSES: tuple[type[GuidedFlow], ...] = (TianjinFlow, SuzhouFlow)


def build_guided(kb: KnowledgeBase) -> dict[str, GuidedFlow]:
    """The flows with their concrete type (diagrams and tests need the machine spec): the
    coded ones, then one StepsFlow per `flow_text` section that lists `steps` (a flow
    written in data only)."""
    flows: dict[str, GuidedFlow] = {}
    for cls in FLOW_CLASSES:
        text, common = flow_texts(kb, cls.spec.name)
        flows[cls.spec.name] = cls(kb, text, common)
    for name, section in kb.flow_text.items():
        if name not in flows and isinstance(section, dict) and "steps" in section:
            text, common = flow_texts(kb, name)
            flows[name] = StepsFlow(name, kb, text, common)
    return flows


def build_flows(kb: KnowledgeBase) -> dict[str, Flow]:
    return dict(build_guided(kb))
