"""What a reader meets on one of our HTML pages, in order: for tests that look at a page as a person would."""

from __future__ import annotations

import re
from html.parser import HTMLParser

__all__ = ["PageContent", "read_page"]


class PageContent(HTMLParser):
    """Section headings and plots in page order, every SVG text, and every font size the page sets."""

    def __init__(self) -> None:
        super().__init__()
        self.order: list[tuple[str, str]] = []  # ("section", id) | ("heading", text) | ("plot", "")
        self.font_sizes: list[float] = []
        self.svg_texts: list[str] = []
        self._in_heading = False
        self._in_svg_text = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if values.get("font-size"):
            self.font_sizes.append(float(str(values["font-size"]).removesuffix("px")))
        if tag == "section":
            self.order.append(("section", str(values.get("id", ""))))
        elif tag == "svg":
            self.order.append(("plot", ""))
        self._in_heading = tag == "h3"
        self._in_svg_text = tag == "text"

    def handle_data(self, data: str) -> None:
        if self._in_heading and data.strip():
            self.order.append(("heading", data.strip()))
            self._in_heading = False
        if self._in_svg_text and data.strip():
            self.svg_texts.append(data.strip())
            self._in_svg_text = False

    @property
    def headings(self) -> list[str]:
        """The headings of the feature sections, in page order."""
        return [
            self.order[i + 1][1]
            for i, (kind, _) in enumerate(self.order[:-1])
            if kind == "section" and self.order[i + 1][0] == "heading"
        ]

    def sections_open_with_their_heading(self) -> bool:
        """Every feature section starts with its heading, so its plots follow its name."""
        return all(
            self.order[i + 1][0] == "heading" for i, (kind, _) in enumerate(self.order) if kind == "section"
        )


def read_page(markup: str) -> PageContent:
    """Parse ``markup``; CSS font sizes in px are added to the SVG ones."""
    page = PageContent()
    page.feed(markup)
    page.font_sizes += [float(size) for size in re.findall(r"font-size\s*:\s*(\d+(?:\.\d+)?)px", markup)]
    # rem and em against the browser's 16 px root (our pages set no root size): .85rem is 13.6 px
    relative = re.findall(r"font-size\s*:\s*(\d*\.?\d+)r?em", markup)
    page.font_sizes += [16 * float(size) for size in relative]
    if "<small" in markup:  # a browser draws <small> at 5/6 of its parent: 15 px text gives 12.5 px
        page.font_sizes.append(15 * 5 / 6)
    return page
