"""Showing queries and results: tables, the notebook preview, live views, pandas, plots."""

from .._moved import forward

__getattr__ = forward(
    __name__,
    "streamql.display.show",
    ("Table", "Peek", "html_table", "peek", "preview_html", "text_table"),
)
