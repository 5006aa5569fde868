"""``report.html``: one self-contained page rendered from the summary with jinja2.

Autoescaping is on for every value, so a study folder or DICOM field holding markup is
shown as text and never runs. Figures are embedded as ``data:image/png;base64`` URIs;
the page loads nothing from anywhere.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from medxai.report.pipeline import METRICS


def environment() -> Environment:
    """The jinja2 environment: package templates, autoescape on, undefined is an error."""
    env = Environment(
        loader=PackageLoader("medxai.report", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["pct"] = lambda v: "—" if v is None else f"{float(v):.0%}"
    env.filters["metric"] = format_metric
    env.filters["num"] = lambda v, digits=2: "—" if v is None else f"{float(v):.{digits}f}"
    return env


def format_metric(value: Any) -> str:
    """A metric value: whole numbers without decimals, others with three."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.3f}"


def data_uri(png: bytes) -> str:
    """A PNG as a ``data:`` URI."""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def render_html(summary: Mapping[str, Any], pngs: Mapping[str, bytes]) -> str:
    """The report page; ``pngs`` maps each figure's relative path to its bytes."""
    template = environment().get_template("report.html")
    return template.render(
        s=summary,
        images={path: data_uri(data) for path, data in pngs.items()},
        metric_titles=dict(METRICS),
    )
