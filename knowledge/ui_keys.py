"""The contract between the code and the ui texts: every ui key the code reads, with the
fields it passes to the template.

`kb check` (and therefore `/reload` and SIGHUP) refuses knowledge files where a key below is
missing or a template names a placeholder its key is not given — `（{sektion}）` for
`{section}` — as `file:line: reason`, instead of every turn failing with a KeyError.
tests/knowledge/test_ui_keys.py collects the `kb.text("…", field=…)` calls from the code and checks
them against this table, so a new key or field cannot be left out of it.
"""

from __future__ import annotations

import string
from collections.abc import Mapping

NONE: frozenset[str] = frozenset()

USED: Mapping[str, frozenset[str]] = {
    "about": frozenset({"sources"}),
    "about_line": frozenset({"published", "title"}),
    "abstain_aspect": frozenset({"what"}),
    "abstain_aspect_near": frozenset({"what"}),
    "abstain_city_aspect": frozenset({"city", "what"}),
    "act_context": frozenset({"facts"}),
    "act_context_none": NONE,
    "entry_item": frozenset({"title", "n", "item"}),
    "admin_reload_done": frozenset({"entries", "version"}),
    "admin_reload_failed": frozenset({"count", "version"}),
    "admin_reload_more": frozenset({"count"}),
    "admin_reload_others": frozenset({"seconds"}),
    "admin_reload_unchanged": frozenset({"version"}),
    "ask_birth": frozenset({"first", "last", "phrase"}),
    "back": NONE,
    "cancelled": NONE,
    "city_suzhou": NONE,
    "city_tianjin": NONE,
    "clarify_city": NONE,
    "clarify_city_away": frozenset({"city"}),
    "compare_other": frozenset({"city", "other"}),
    "compare_uncovered": frozenset({"city", "what"}),
    "abstain_unfit": frozenset({"what", "titles"}),
    "paid_late": frozenset({"next"}),
    "paid_within": frozenset({"paid"}),
    "paid_unknown": frozenset({"next"}),
    "office_other": frozenset({"office"}),
    "duration_more": frozenset({"said"}),
    "claim_right": frozenset({"fact"}),
    "what_now_ineligible": NONE,
    "claim_wrong": frozenset({"fact", "said"}),
    "duration_enough": frozenset(),
    "duration_less": frozenset({"said"}),
    "per_child": frozenset({"child"}),
    "abstain_thing": frozenset({"thing", "what"}),
    "snippet_elsewhere": frozenset({"city"}),
    "birth_range": frozenset({"phrase", "first", "last"}),
    "birth_rule_city": frozenset({"city"}),
    "fact_birth": frozenset({"date"}),
    "beside_uncovered": frozenset({"place", "city"}),
    "continue_flow": NONE,
    "continue_no": NONE,
    "continue_yes": NONE,
    "empty": NONE,
    "error": NONE,
    "footer": frozenset({"applies_to", "section", "source_title"}),
    "footer_page": frozenset({"applies_to", "section", "source_title"}),
    "forget_confirm": NONE,
    "forget_failed": NONE,
    "forget_kept": NONE,
    "forget_no": NONE,
    "forget_yes": NONE,
    "forgotten": NONE,
    "guard_year": frozenset({"covered", "year"}),
    "implied_tj_local": NONE,
    "fee_role_personal": NONE,
    "fee_role_subsidy": NONE,
    "fee_role_total": NONE,
    "fee_check_yes": frozenset({"role", "n", "applies"}),
    "fee_check_no": frozenset({"n", "actual", "role", "right", "applies"}),
    "cost_children": frozenset(
        {
            "n",
            "personal",
            "personal_each",
            "subsidy",
            "subsidy_each",
            "total_each",
            "total",
            "applies",
        }
    ),
    "help": NONE,
    "late_enrol": NONE,
    "main_menu": NONE,
    "next_none": NONE,
    "previous_none": NONE,
    "no_more": NONE,
    "not_covered": NONE,
    "report_chart_legend": NONE,
    "report_cluster_line": frozenset({"chats", "keywords", "rank", "turns"}),
    "report_cluster_no_keywords": NONE,
    "report_day_line": frozenset({"bar", "day", "turns", "unanswered"}),
    "report_entries_none": NONE,
    "report_footer": NONE,
    "report_period": frozenset({"end", "start", "zone"}),
    "report_period_empty": NONE,
    "report_acts": frozenset({"acts"}),
    "report_out_of_scope_unknown": NONE,
    "report_out_of_scope_none": NONE,
    "report_section_out_of_scope": NONE,
    "report_section_low_confidence": NONE,
    "report_low_confidence_none": frozenset({"below"}),
    "report_questions": frozenset({"questions"}),
    "report_rate_line": frozenset({"count", "label", "rate"}),
    "report_section_days": NONE,
    "report_section_entries": NONE,
    "report_section_unanswered": NONE,
    "report_stats": frozenset(
        {
            "answered",
            "chats",
            "clarified",
            "out_of_scope",
            "questions",
            "start",
            "title",
            "top",
            "turns",
            "unanswered",
        }
    ),
    "report_stats_top_none": NONE,
    "report_title": NONE,
    "report_totals": frozenset({"chats", "turns"}),
    "report_unanswered_none": NONE,
    "restart": NONE,
    "stale_button": NONE,
    "store_degraded": NONE,
    "suggestions": NONE,
    "too_fast": NONE,
    "too_long": frozenset({"limit"}),
    "unknown_state": NONE,
    "welcome": NONE,
    "wx_choose": NONE,
    "wx_choose_typed": NONE,
    "wx_menu_help": NONE,
    "wx_menu_more": NONE,
    "wx_more": NONE,
    # Named at run time: the Telegram command menu, the report's rates and columns, and the
    # engine's notices (`Engine.notice`, `n:<key>` buttons).
    "non_text": NONE,
    **{f"tg_cmd_{c}": NONE for c in ("start", "menu", "tianjin", "suzhou", "help")},
    **{f"tg_cmd_{c}": NONE for c in ("cancel", "forget", "about")},
    **{f"report_rate_{k}": NONE for k in ("answered", "unanswered", "clarified", "out_of_scope")},
    **{
        f"report_col_{c}": NONE
        for c in ("rank", "turns", "chats", "keywords", "examples", "entry", "day", "unanswered")
    },
}
"""Key -> the fields the code formats it with (a template may leave some out)."""

FAMILIES: Mapping[str, frozenset[str]] = {"act_": NONE, "guard_": NONE}
"""Keys named by the understanding data (`act_<act>`, a guard's reply), which the loader
checks exist; their templates get no fields."""

CHANNELS = ("wechat.",)  # `<channel>.<key>` words `key` for one channel, with its fields

FALLBACK_APOLOGY = "抱歉，处理您的消息时出了点问题，请稍后再试。"
"""Said when even the ui text `error` cannot be had: the error handler needs no data file."""


def fields_of(key: str) -> frozenset[str]:
    """The fields the code passes to ui text `key` (none for a key it does not format)."""
    for channel in CHANNELS:
        if key.startswith(channel):
            key = key[len(channel) :]
    if key in USED:
        return USED[key]
    for prefix, fields in FAMILIES.items():
        if key.startswith(prefix):
            return fields
    return NONE


def placeholders(template: str) -> list[str]:
    """The field names a template formats (`{a}`, `{a.b}`, `{a[0]}` -> `a`); ValueError for
    a template `str.format` cannot parse (a lone brace)."""
    names = []
    for _, field, _, _ in string.Formatter().parse(template):
        if field is not None:
            names.append(field.split(".", 1)[0].split("[", 1)[0])
    return names


def problems(ui: Mapping[str, str]) -> list[tuple[str, str]]:
    """(key, reason) for each used key missing and each template naming a field its key is
    not given. A template formatted with no fields is shown as it is, so any placeholder in
    it would reach the user verbatim: also a problem."""
    found = [(key, "used by the code but missing") for key in USED if key not in ui]
    for key, template in ui.items():
        if key.startswith(tuple(c + "flow_text." for c in CHANNELS)):
            continue  # flow texts, checked with the flows
        allowed = fields_of(key)
        try:
            names = placeholders(template)
        except ValueError as exc:
            found.append((key, f"not a valid template ({exc}); write a brace as {{{{ or }}}}"))
            continue
        for name in names:
            if name not in allowed:
                given = ", ".join(sorted(allowed)) or "none"
                found.append((key, f"placeholder {{{name}}} is not passed (fields: {given})"))
    return found


def apology(ui: Mapping[str, str]) -> str:
    """The ui text `error`, or the built-in apology when the files do not provide one."""
    text = ui.get("error")
    return text if isinstance(text, str) and text.strip() else FALLBACK_APOLOGY
