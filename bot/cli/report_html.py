"""The report as one self-contained HTML page: inline CSS, an inline SVG chart, no scripts.

The file must open from a laptop or a mail attachment with no network, and questions
typed by strangers must never become markup: every string is escaped with `esc`, and a
Content-Security-Policy forbids loading anything at all, as a second line of defence.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Iterable

from bot.cli.report import (
    LOW_CONFIDENCE_BELOW,
    RATE_KEYS,
    TOP_CLUSTERS,
    TOP_ENTRIES,
    Report,
    cluster_keywords,
    entry_title,
    oos_example,
    percent,
)
from knowledge.loader import KnowledgeBase

CHART_HEIGHT = 120
CHART_BAR = 14  # px per day, gap included
CHART_MIN_WIDTH = 240

CSS = """
body{font-family:system-ui,"PingFang SC","Microsoft YaHei",sans-serif;margin:2rem auto;
max-width:60rem;padding:0 1rem;color:#222;line-height:1.5}
h1{font-size:1.5rem;margin-bottom:.2rem}h2{font-size:1.15rem;margin-top:2rem;
border-bottom:1px solid #ddd}table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:.25rem .5rem;border-bottom:1px solid #eee;vertical-align:top}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
.rates{display:flex;flex-wrap:wrap;gap:1rem;padding:0;list-style:none}
.rates li{background:#f4f6f8;border-radius:.4rem;padding:.5rem .8rem}
.muted{color:#666;font-size:.9rem}ul.ex{margin:0;padding-left:1.1rem}
svg .all{fill:#9ec5e8}svg .un{fill:#d9534f}svg text{font-size:10px;fill:#555}
"""
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"


def esc(value: object) -> str:
    """Escape anything for HTML text and attribute values."""
    return html.escape(str(value), quote=True)


def render_html(report: Report, kb: KnowledgeBase) -> str:
    title = esc(kb.text("report_title"))
    parts = [
        "<!DOCTYPE html>",
        '<html lang="zh-CN"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{esc(CSP)}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{title}</title><style>{CSS}</style></head><body>",
        f"<h1>{title}</h1>",
    ]
    if not report.turns:
        parts.append(f"<p>{esc(kb.text('report_period_empty'))}</p></body></html>")
        return "\n".join(parts) + "\n"
    start = report.since or report.first
    period = kb.text("report_period", start=start, end=report.last, zone=report.zone)
    parts.append(f'<p class="muted">{esc(period)}')
    parts.append(f"<br>{esc(kb.text('report_totals', turns=report.turns, chats=report.chats))}")
    parts.append(f"<br>{esc(kb.text('report_questions', questions=report.questions))}</p>")
    parts.append('<ul class="rates">')
    for key in RATE_KEYS:
        label = esc(kb.text(f"report_rate_{key}"))
        count, rate = report.buckets.get(key, 0), percent(report.rate(key))
        parts.append(f"<li>{label}<br><strong>{esc(rate)}</strong> ({count})</li>")
    parts.append("</ul>")

    parts.append(f"<h2>{esc(kb.text('report_section_days'))}</h2>")
    parts.append(_chart(report))
    parts.append(f'<p class="muted">{esc(kb.text("report_chart_legend"))}</p>')

    parts.append(f"<h2>{esc(kb.text('report_section_unanswered'))}</h2>")
    if report.clusters:
        parts.append(_clusters_table(report, kb))
    else:
        parts.append(f"<p>{esc(kb.text('report_unanswered_none'))}</p>")

    parts.append(f"<h2>{esc(kb.text('report_section_out_of_scope'))}</h2>")
    topics = [(n, topic) for topic, n in report.out_of_scope_topics]
    parts.append(_pairs(kb, topics, "report_out_of_scope_none", oos_example))
    parts.append(f"<h2>{esc(kb.text('report_section_low_confidence'))}</h2>")
    low = [(f"{x.confidence:.2f} · {x.day}", x.entry) for x in report.low_confidence]
    parts.append(_pairs(kb, low, "report_low_confidence_none", entry_title))

    parts.append(f"<h2>{esc(kb.text('report_section_entries'))}</h2>")
    if report.entry_hits:
        rows = (
            f'<tr><td class="n">{n}</td><td>{esc(entry_title(kb, eid))}'
            f' <span class="muted">{esc(eid)}</span></td></tr>'
            for eid, n in report.entry_hits[:TOP_ENTRIES]
        )
        head = _head(kb, ("report_col_turns", "n"), ("report_col_entry", ""))
        parts.append(f"<table>{head}{''.join(rows)}</table>")
    else:
        parts.append(f"<p>{esc(kb.text('report_entries_none'))}</p>")

    parts.append(f'<p class="muted">{esc(kb.text("report_footer"))}</p></body></html>')
    return "\n".join(parts) + "\n"


def _pairs(
    kb: KnowledgeBase,
    rows: Iterable[tuple[object, str]],
    none_key: str,
    describe: Callable[[KnowledgeBase, str], str],
) -> str:
    """A two-column table (a figure, then an id described by `describe`), or `none_key`."""
    cells = [
        f'<tr><td class="n">{esc(n)}</td><td>{esc(describe(kb, key))}'
        f' <span class="muted">{esc(key)}</span></td></tr>'
        for n, key in rows
    ]
    if not cells:
        return f"<p>{esc(kb.text(none_key, below=LOW_CONFIDENCE_BELOW))}</p>"
    return f"<table>{''.join(cells)}</table>"


def _head(kb: KnowledgeBase, *cols: tuple[str, str]) -> str:
    cells = "".join(
        f'<th class="{cls}">{esc(kb.text(key))}</th>' if cls else f"<th>{esc(kb.text(key))}</th>"
        for key, cls in cols
    )
    return f"<tr>{cells}</tr>"


def _clusters_table(report: Report, kb: KnowledgeBase) -> str:
    head = _head(
        kb,
        ("report_col_rank", "n"),
        ("report_col_turns", "n"),
        ("report_col_chats", "n"),
        ("report_col_keywords", ""),
        ("report_col_examples", ""),
    )
    rows = []
    for rank, cluster in enumerate(report.clusters[:TOP_CLUSTERS], 1):
        examples = "".join(f"<li>{esc(text)} ({n})</li>" for text, n in cluster.examples)
        rows.append(
            f'<tr><td class="n">{rank}</td><td class="n">{cluster.turns}</td>'
            f'<td class="n">{cluster.chats}</td><td>{esc(cluster_keywords(cluster, kb))}</td>'
            f'<td><ul class="ex">{examples}</ul></td></tr>'
        )
    return f"<table>{head}{''.join(rows)}</table>"


def _chart(report: Report) -> str:
    """Per-day bars (all turns, unanswered in front) as inline SVG with native tooltips."""
    peak = max((d.turns for d in report.days), default=0) or 1
    width = max(CHART_MIN_WIDTH, CHART_BAR * len(report.days))
    top, bottom = 12, 16  # room for the peak label and the first/last dates
    plot = CHART_HEIGHT - top - bottom
    bars: list[str] = []
    for i, d in enumerate(report.days):
        x = i * CHART_BAR + 1
        h_all = round(plot * d.turns / peak)
        h_un = round(plot * d.unanswered / peak)
        tip = esc(f"{d.day.isoformat()}: {d.turns} / {d.unanswered}")
        bars.append(
            f'<g><title>{tip}</title><rect class="all" x="{x}" y="{top + plot - h_all}" '
            f'width="{CHART_BAR - 2}" height="{h_all}"/><rect class="un" x="{x}" '
            f'y="{top + plot - h_un}" width="{CHART_BAR - 2}" height="{h_un}"/></g>'
        )
    labels = _chart_labels(report, width, CHART_HEIGHT - 3, peak)
    return (
        f'<svg role="img" width="{width}" height="{CHART_HEIGHT}" '
        f'viewBox="0 0 {width} {CHART_HEIGHT}" style="max-width:100%;height:auto">'
        f"{''.join(bars)}{''.join(labels)}</svg>"
    )


def _chart_labels(report: Report, width: int, baseline: int, peak: int) -> Iterable[str]:
    yield f'<text x="0" y="10">{peak}</text>'
    if report.days:
        yield f'<text x="0" y="{baseline}">{esc(report.days[0].day.isoformat())}</text>'
        if len(report.days) > 1:
            last = esc(report.days[-1].day.isoformat())
            yield f'<text x="{width}" y="{baseline}" text-anchor="end">{last}</text>'
