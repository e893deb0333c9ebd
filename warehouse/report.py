"""`socwatch report`: one self-contained HTML page about the warehouse.

The charts are Vega-Lite specifications built with Altair from the BI views (theme_monthly,
partnerships, source_health, announcements); the page carries their data and the Vega,
Vega-Lite and Vega-Embed JavaScript (vl-convert's bundle) inline, so it opens without a
network. Tables (the latest bilateral announcements, source health) are plain HTML.
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime

import altair as alt
import duckdb
import vl_convert

from warehouse.watch import hits, watchlists

CHART_IDS = ("themes-over-time", "partner-matrix", "sources")
# Thirteen colours that stay apart from one another in a stacked bar (one per theme).
THEME_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22",
                 "#17becf", "#393b79", "#f2c80f", "#000000")
LATEST_BILATERAL = 15
TOP_SOURCES = 15
_VL_VERSION = ".".join(alt.SCHEMA_VERSION.lstrip("v").split(".")[:2])


@dataclass(frozen=True)
class Section:
    id: str
    title: str
    explanation: str
    spec: dict | None  # a Vega-Lite specification, or None where there is no data to draw
    empty: str = "Nothing to show yet."


def _rows(con: duckdb.DuckDBPyConnection, query: str) -> list[dict]:
    cursor = con.execute(query)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _iso(value: object) -> object:
    return value.isoformat() if hasattr(value, "isoformat") else value


def _data(rows: list[dict]) -> alt.Data:
    return alt.Data(values=[{k: _iso(v) for k, v in row.items()} for row in rows])


def themes_over_time(con: duckdb.DuckDBPyConnection) -> Section:
    # From announcements, not theme_monthly: that view counts an article once per acting country.
    rows = _rows(con, """
        SELECT theme, month, count(*)::INTEGER AS articles
        FROM (SELECT unnest(themes) AS theme, date_trunc('month', coalesce(published_at, first_seen_at))::DATE AS month
              FROM announcements)
        GROUP BY theme, month ORDER BY month, theme""")
    spec = None
    if rows:
        chart = alt.Chart(_data(rows)).mark_bar().encode(
            x=alt.X("month:T", timeUnit="yearmonth", title="month of publication"),
            y=alt.Y("articles:Q", stack="zero", title="announcements", axis=alt.Axis(format="d", tickMinStep=1)),
            color=alt.Color("theme:N", title="theme", scale=alt.Scale(range=list(THEME_COLOURS))),
            tooltip=[alt.Tooltip("month:T", timeUnit="yearmonth", title="month"), "theme:N", "articles:Q"],
        ).properties(width="container", height=280)
        spec = chart.to_dict()
    return Section("themes-over-time", "Announcements per theme over time",
                   "Articles per SOC theme and month (an article with two themes counts in both).", spec)


def partner_matrix(con: duckdb.DuckDBPyConnection) -> Section:
    rows = _rows(con, "SELECT country_a, country_b, sum(articles)::INTEGER AS articles, "
                      "list_sort(list_distinct(flatten(list(themes)))) AS themes FROM partnerships "
                      "GROUP BY country_a, country_b")
    spec = None
    if rows:
        # Each pair once (country_a before country_b): the cells add up to the announcements.
        for r in rows:
            r["themes"] = ", ".join(r["themes"] or ())
        base = alt.Chart(_data(rows)).encode(
            x=alt.X("country_a:N", title=None, sort="ascending"),
            y=alt.Y("country_b:N", title=None, sort="ascending"),
        )
        cells = base.mark_rect().encode(
            color=alt.Color("articles:Q", title="announcements", scale=alt.Scale(scheme="blues", domainMin=0),
                            legend=alt.Legend(format="d", tickMinStep=1)),
            tooltip=[alt.Tooltip("country_a:N", title="partner"), alt.Tooltip("country_b:N", title="partner"),
                     "articles:Q", "themes:N"],
        )
        labels = base.mark_text(baseline="middle").encode(text="articles:Q")
        spec = (cells + labels).properties(width=320, height=320).to_dict()
    return Section("partner-matrix", "Partner countries",
                   "Bilateral announcements per pair of partner countries (ISO 3166-1 alpha-2).", spec,
                   "No bilateral announcements yet.")


def sources_chart(con: duckdb.DuckDBPyConnection) -> Section:
    rows = _rows(con, f"""
        SELECT source, articles::INTEGER AS articles, failure_streak::INTEGER AS failure_streak,
               CASE WHEN last_checked_at IS NULL THEN 'never read'
                    WHEN failure_streak > 0 THEN 'failing'
                    ELSE 'healthy' END AS health
        FROM source_health ORDER BY articles DESC, source LIMIT {TOP_SOURCES}""")
    spec = None
    if rows:
        chart = alt.Chart(_data(rows)).mark_bar().encode(
            x=alt.X("articles:Q", title="articles stored", axis=alt.Axis(format="d", tickMinStep=1)),
            y=alt.Y("source:N", sort="-x", title=None),
            color=alt.Color("health:N", title="health",
                            scale=alt.Scale(domain=["healthy", "failing", "never read"], range=["#4c9a2a", "#c0392b", "#999999"])),
            tooltip=["source:N", "articles:Q", "health:N", alt.Tooltip("failure_streak:Q", title="failed runs in a row")],
        ).properties(width="container", height=max(60, 24 * len(rows)))
        spec = chart.to_dict()
    return Section("sources", "Top sources and their health",
                   f"The {TOP_SOURCES} sources with most articles; red where the last run could not read the feed.", spec)


def _latest_bilateral(con: duckdb.DuckDBPyConnection) -> list[dict]:
    return _rows(con, f"""
        SELECT published_at, source, title, url, partners, themes, type FROM announcements
        WHERE bilateral ORDER BY published_at DESC NULLS LAST, title LIMIT {LATEST_BILATERAL}""")


def _bilateral_events(con: duckdb.DuckDBPyConnection) -> list[dict]:
    return _rows(con, f"""
        SELECT e.event_id, e.first_published_at, e.partners, e.type, e.title,
               list({{'source': a.source, 'language': a.language, 'role': x.role, 'title': a.title, 'url': a.url,
                      'published_at': coalesce(a.published_at, a.first_seen_at)}}
                    ORDER BY coalesce(a.published_at, a.first_seen_at), a.article_id) AS releases
        FROM events e JOIN event_articles x USING (event_id) JOIN articles a ON a.article_id = x.article_id
        WHERE e.bilateral GROUP BY ALL
        ORDER BY e.first_published_at DESC NULLS LAST, e.event_id LIMIT {LATEST_BILATERAL}""")


def _events_table(rows: list[dict]) -> str:
    """A timeline of bilateral events, each with its releases side by side (partners' releases,
    follow-ups and copies, each with its publisher, language and role)."""
    if not rows:
        return '<p class="empty">No bilateral events yet.</p>'

    def release(r: dict) -> str:
        day = r["published_at"].date().isoformat() if r["published_at"] else "–"
        return (f'<div class="release"><span class="meta">{html.escape(day)} · {html.escape(r["source"])} · '
                f'{html.escape(r["language"] or "")} · {html.escape(r["role"].replace("_", " "))}</span>'
                f'<a href="{html.escape(r["url"], quote=True)}" rel="noreferrer">{html.escape(r["title"] or r["url"])}</a></div>')

    body = "".join(
        "<tr>" + _cell(r["first_published_at"].date() if r["first_published_at"] else None) + _cell(r["partners"])
        + _cell(r["type"]) + '<td><div class="releases">' + "".join(map(release, r["releases"])) + "</div></td></tr>"
        for r in rows)
    return ('<table id="bilateral-events"><thead><tr><th>first reported</th><th>partners</th><th>type</th>'
            f"<th>releases</th></tr></thead><tbody>{body}</tbody></table>")


def _watchlist_sections(con: duckdb.DuckDBPyConnection) -> list[str]:
    """A section per watchlist: its filter and its latest hits with why they matched."""
    out = []
    for w in watchlists(con):
        found = hits(con, w.name, limit=LATEST_BILATERAL)
        body = "".join(
            "<tr>" + _cell(h.published_at.date() if h.published_at else None)
            + f'<td><a href="{html.escape(h.url, quote=True)}" rel="noreferrer">{html.escape(h.title or h.url)}</a></td>'
            + _cell(h.partners) + _cell(h.themes) + _cell(h.reasons) + _cell(h.source)
            + _cell(f"run {h.run_id[:8]}" if h.run_id else "baseline") + "</tr>" for h in found)
        table = ('<p class="empty">No hits yet.</p>' if not found else
                 f'<table class="watchlist"><thead><tr><th>date</th><th>title</th><th>partners</th><th>themes</th>'
                 f"<th>matched</th><th>source</th><th>found</th></tr></thead><tbody>{body}</tbody></table>")
        out.append(f'<section id="watchlist-{html.escape(w.name, quote=True)}"><h2>Watchlist {html.escape(w.name)}</h2>'
                   f'<p class="explain">{html.escape(w.describe())}: its latest hits (socwatch watch show {html.escape(w.name)}).'
                   f"</p>{table}</section>")
    return out


def _health_rows(con: duckdb.DuckDBPyConnection) -> list[dict]:
    return _rows(con, "SELECT source, country, articles, last_success_at, last_published_at, failure_streak, "
                      "coalesce(alert_reason, 'ok') AS alert FROM source_health ORDER BY alert IS NULL, source")


def _cell(value: object) -> str:
    if value is None:
        return '<td class="none">–</td>'
    if isinstance(value, datetime):
        return f"<td>{value.astimezone(UTC):%Y-%m-%d %H:%M}</td>"
    if isinstance(value, list):
        return f"<td>{html.escape(', '.join(map(str, value)))}</td>"
    return f"<td>{html.escape(str(value))}</td>"


def _bilateral_table(rows: list[dict]) -> str:
    if not rows:
        return '<p class="empty">No bilateral announcements yet.</p>'
    body = "".join(
        "<tr>" + _cell(r["published_at"].date() if r["published_at"] else None) + _cell(r["partners"])
        + f'<td><a href="{html.escape(r["url"], quote=True)}" rel="noreferrer">{html.escape(r["title"] or r["url"])}</a></td>'
        + _cell(r["themes"]) + _cell(r["type"]) + _cell(r["source"]) + "</tr>"
        for r in rows)
    return ('<table id="latest-bilateral"><thead><tr><th>date</th><th>partners</th><th>title</th><th>themes</th>'
            f"<th>type</th><th>source</th></tr></thead><tbody>{body}</tbody></table>")


def _health_table(rows: list[dict]) -> str:
    if not rows:
        return '<p class="empty">No sources yet.</p>'
    body = "".join("<tr>" + "".join(_cell(r[k]) for k in r) + "</tr>" for r in rows)
    head = "".join(f"<th>{html.escape(k.replace('_', ' '))}</th>" for k in rows[0])
    return f'<table id="source-health"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _totals(con: duckdb.DuckDBPyConnection) -> dict:
    return _rows(con, """
        SELECT (SELECT count(*) FROM articles) AS articles,
               (SELECT count(*) FROM announcements WHERE bilateral) AS bilateral,
               (SELECT count(*) FROM sources) AS sources,
               (SELECT max(finished_at) FROM runs WHERE status IN ('completed', 'completed_with_errors')) AS last_run""")[0]


def _script_safe(text: str) -> str:
    """Text that cannot end the <script> element it is put in."""
    return re.sub(r"</(script)", r"<\\/\1", text, flags=re.IGNORECASE)


STYLE = """
body { font: 15px/1.45 system-ui, sans-serif; margin: 0 auto; max-width: 1100px; padding: 1.5rem; color: #222; }
header p, .explain { color: #555; } h2 { margin-top: 2.2rem; border-bottom: 1px solid #ddd; }
.figures { display: flex; gap: 2rem; } .figures div { font-size: 1.8rem; font-weight: 600; }
.figures span { display: block; font-size: .8rem; font-weight: 400; color: #666; }
.chart { width: 100%; } table { border-collapse: collapse; width: 100%; font-size: .9rem; }
th, td { text-align: left; padding: .3rem .5rem; border-bottom: 1px solid #eee; vertical-align: top; }
td.none, .empty { color: #999; }
.releases { display: flex; gap: .8rem; flex-wrap: wrap; } .release { flex: 1 1 14rem; }
.release .meta { display: block; font-size: .78rem; color: #666; }
"""


def render_report(con: duckdb.DuckDBPyConnection, db_label: str) -> str:
    """The whole page, as one string."""
    sections = [themes_over_time(con), partner_matrix(con), sources_chart(con)]
    totals = _totals(con)
    last_run = totals["last_run"].astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if totals["last_run"] else "none yet"
    parts = [
        '<!doctype html><html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>socwatch report: {html.escape(db_label)}</title><style>{STYLE}</style></head><body>",
        f"<header><h1>socwatch report</h1><p>Warehouse {html.escape(db_label)}; last finished run {last_run}; "
        f"written {datetime.now(UTC):%Y-%m-%d %H:%M} UTC.</p>",
        '<div class="figures">',
        *(f"<div>{totals[k]}<span>{label}</span></div>" for k, label in
          (("articles", "announcements"), ("bilateral", "bilateral"), ("sources", "sources"))),
        "</div></header>",
    ]
    specs = {}
    for s in sections:
        parts.append(f'<section><h2>{html.escape(s.title)}</h2><p class="explain">{html.escape(s.explanation)}</p>')
        if s.spec is None:
            parts.append(f'<p class="empty" id="{s.id}">{html.escape(s.empty)}</p></section>')
            continue
        specs[s.id] = s.spec
        parts.append(f'<div class="chart" id="{s.id}"></div></section>')
    parts += [
        "<section><h2>Bilateral events</h2><p class=\"explain\">Announcements that report the same event, "
        "linked across publishers and languages by shared operations, facts, agencies and partners (socwatch events).</p>",
        _events_table(_bilateral_events(con)), "</section>",
        "<section><h2>Latest bilateral announcements</h2>", _bilateral_table(_latest_bilateral(con)), "</section>",
        *_watchlist_sections(con),
        "<section><h2>Source health</h2>", _health_table(_health_rows(con)), "</section>",
        f"<script>{_script_safe(vl_convert.javascript_bundle(vl_version=_VL_VERSION))}</script>",
        f"<script>const SPECS = {_script_safe(json.dumps(specs, default=str))};\n",
        "window.socwatchCharts = Promise.all(Object.entries(SPECS).map(([id, spec]) =>\n"
        "  vegaEmbed('#' + id, spec, {actions: false, renderer: 'svg'})));\n"
        "window.socwatchCharts.then(() => document.body.dataset.charts = 'drawn',\n"
        "  (e) => { document.body.dataset.charts = 'failed'; console.error(e); });</script>",
        "</body></html>",
    ]
    return "".join(parts)
