"""Charts for the report page, drawn on the server as SVG: nothing to download, nothing to run in the
browser, and they print. Each chart is an image with a title; the table beside it carries the
same figures for screen readers and for anyone who would rather read numbers.
"""

from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

WIDTH = 720


def _svg(height, title, body, *, css_class):
    return format_html(
        '<svg class="chart {}" viewBox="0 0 {} {}" width="100%" role="img" focusable="false" '
        'preserveAspectRatio="xMinYMin meet"><title>{}</title>{}</svg>',
        css_class, WIDTH, height, title, body)


def daily_columns(by_day, *, title):
    """Chats started per day as columns, the answered share of each drawn darker inside it."""
    height, bottom, left = 180, 150, 36
    peak = max((row[1] for row in by_day), default=0) or 1
    step = (WIDTH - left) / max(len(by_day), 1)
    width = max(step * 0.8, 1)

    def bar(n, value, css):
        top = bottom - 130 * value / peak
        return format_html('<rect class="{}" x="{}" y="{}" width="{}" height="{}"></rect>',
                           css, _n(left + n * step), _n(top), _n(width), _n(bottom - top))

    bars = mark_safe("".join(bar(n, row[1], "bar-started") + bar(n, row[2], "bar-answered")
                             for n, row in enumerate(by_day)))
    labels = format_html(
        '<text class="axis" x="{}" y="{}" text-anchor="end">{}</text>'
        '<text class="axis" x="{}" y="172">{}</text><text class="axis" x="{}" y="172" text-anchor="end">{}</text>'
        '<line class="baseline" x1="{}" x2="{}" y1="{}" y2="{}"></line>',
        left - 6, bottom - 126, peak, left, by_day[0][0].isoformat() if by_day else "",
        WIDTH, by_day[-1][0].isoformat() if by_day else "", left, WIDTH, bottom, bottom)
    return _svg(height, title, bars + labels, css_class="chart-daily")


def horizontal_bars(rows, *, title):
    """One bar per (label, value) row, longest = full width, with the value written at its end."""
    label_width, row_height = 260, 26
    peak = max((value or 0 for _label, value in rows), default=0) or 1
    span = WIDTH - label_width - 60

    def row(n, label, value):
        y = n * row_height + 4
        length = span * (value or 0) / peak
        return format_html(
            '<text class="label" x="{}" y="{}" text-anchor="end">{}</text>'
            '<rect class="bar" x="{}" y="{}" width="{}" height="18" rx="3"></rect>'
            '<text class="value" x="{}" y="{}">{}</text>',
            label_width - 8, y + 14, _short(label), label_width, y, _n(length), _n(label_width + length + 6), y + 14,
            value if value is not None else "—")

    body = format_html_join("", "{}", ((row(n, label, value),) for n, (label, value) in enumerate(rows)))
    return _svg(max(len(rows), 1) * row_height + 8, title, body, css_class="chart-bars")


def heatmap(grid, weekday_names, *, title):
    """Weekdays down, hours across; the darker the cell, the more questions were asked then."""
    left, top, cell_w, cell_h = 96, 20, (WIDTH - 96) / 24, 26
    peak = max((max(row) for row in grid), default=0) or 1

    def cell(day, hour, count):
        level = 0 if not count else 1 + min(4, int(4 * count / peak))
        return format_html('<rect class="heat-{}" x="{}" y="{}" width="{}" height="{}"><title>{} {}:00 · {}'
                           '</title></rect>', level, _n(left + hour * cell_w), top + day * cell_h, _n(cell_w - 2),
                           cell_h - 2, weekday_names[day], f"{hour:02d}", count)

    cells = format_html_join("", "{}", ((cell(d, h, grid[d][h]),) for d in range(7) for h in range(24)))
    days = format_html_join("", '<text class="label" x="{}" y="{}" text-anchor="end">{}</text>',
                            ((left - 8, top + d * cell_h + 17, weekday_names[d]) for d in range(7)))
    hours = format_html_join("", '<text class="axis" x="{}" y="14">{}</text>',
                             ((_n(left + h * cell_w + 2), f"{h:02d}") for h in range(0, 24, 3)))
    return _svg(top + 7 * cell_h + 4, title, cells + days + hours, css_class="chart-heatmap")


def _n(number):
    """A coordinate as SVG text: one decimal is finer than a pixel."""
    return f"{number:.1f}"


def _short(label, limit=40):
    label = str(label)
    return label if len(label) <= limit else label[:limit - 1] + "…"
