"""The model card page loads nothing and runs nothing, whatever project.yaml's `card` text says.

Hostile text goes through `mlops card` as the pipeline's card stage runs it, on this repository's
committed results; every tag and attribute of the page is then checked against an allow-list.
tests/service/test_card_route.py serves the same page through the /card route.
"""

from __future__ import annotations

import base64
import hashlib
import shlex
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

from mlops.cli import main
from mlops.model_card import render_html
from mlops.model_card_page import PAGE_POLICY, STYLE
from tests.conftest import PATHS, reads_committed_results

ROOT = Path(__file__).resolve().parents[2]

HOSTILE = {
    "purpose": "Scores churn. <script>alert('purpose')</script> <img src=x onerror=alert(1)>",
    "intended_use": (
        "Ranking customers. ![tracker](https://evil.example/pixel.png) "
        "![inline](data:image/png;base64,iVBORw0KGgo=)"
        ' <img src="https://evil.example/raw.png"> <iframe src="https://evil.example/frame"></iframe>'
    ),
    "limits": (
        "Not for credit.\n\n[click](javascript:alert(1)) [entity](javascript&#58;alert(2)) "
        "[upper](JaVaScRiPt:alert(3)) [page](data:text/html;base64,PHNjcmlwdD5hbGVydCg0KTwvc2NyaXB0Pg==) "
        "<javascript:alert(5)> [file](file:///etc/passwd) [relative](/predict)\n\n"
        '<form action="https://evil.example/steal"><input name="q"></form>\n\n'
        '<div style="background:url(https://evil.example/css.png)">styled</div>\n\n'
        "<style>body { background: url(https://evil.example/sheet.png) }</style>\n\n"
        "| left | right |\n|:--|--:|\n| a | 1 |\n"
    ),
    "contact": "[The team](https://example.org/team) or [mail](mailto:team@example.org).",
}
# The words of the hostile text a reader still sees, as text.
SHOWN = [
    "&lt;script&gt;alert('purpose')&lt;/script&gt;",
    "tracker",
    "&lt;iframe src=&quot;https://evil.example/frame&quot;&gt;",
    "[click](javascript:alert(1))",
    "&lt;form action=&quot;https://evil.example/steal&quot;&gt;",
    "background:url(https://evil.example/css.png)",
]
# Every tag the page may hold, with the attributes each may carry.
ALLOWED = {
    "html": {"lang"},
    "head": set(),
    "meta": {"charset", "http-equiv", "content", "name"},
    "title": set(),
    "style": set(),
    "body": set(),
    **{tag: set() for tag in ("h1", "h2", "h3", "h4", "p", "ul", "ol", "li", "em", "strong", "code", "pre")},
    **{tag: set() for tag in ("table", "thead", "tbody", "tr", "blockquote", "hr", "br")},
    "th": {"class"},
    "td": {"class"},
    "a": {"href"},
}
LINK_SCHEMES = {"http", "https", "mailto"}


@dataclass
class Page(HTMLParser):
    """Every tag of a page with its attributes, and the text of its <style> elements."""

    tags: list[tuple[str, dict[str, str | None]]] = field(default_factory=list)
    styles: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__(convert_charrefs=True)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        if self.lasttag == "style" and self.tags[-1][0] == "style":
            self.styles.append(data)


def parsed(html: str) -> Page:
    page = Page()
    page.feed(html)
    page.close()
    return page


def assert_loads_and_runs_nothing(html: str) -> None:
    """Only allowed tags and attributes; links to the web or mail only; one style sheet, the card's,
    allowed by its hash in the page's own policy."""
    page = parsed(html)
    for tag, attrs in page.tags:
        assert tag in ALLOWED, f"<{tag}> in the card page"
        assert set(attrs) <= ALLOWED[tag], f"<{tag} {attrs}> in the card page"
        if tag == "a":
            assert urlsplit(attrs["href"] or "").scheme in LINK_SCHEMES, attrs
        if tag in ("th", "td") and "class" in attrs:
            assert attrs["class"] in {"align-left", "align-center", "align-right"}
    assert page.styles == [STYLE]
    policies = [attrs["content"] for tag, attrs in page.tags if attrs.get("http-equiv")]
    assert policies == [PAGE_POLICY]
    digest = base64.b64encode(hashlib.sha256(page.styles[0].encode()).digest()).decode()
    wanted = f"default-src 'none'; style-src 'sha256-{digest}'; base-uri 'none'; form-action 'none'"
    assert wanted == PAGE_POLICY


def write_hostile_card(folder: Path) -> Path:
    """`mlops card` run with dvc.yaml's card stage command on this repository's results, with HOSTILE
    as project.yaml's card text and the outputs in `folder`: the HTML page it writes."""
    project = yaml.safe_load((ROOT / "project.yaml").read_text())
    (folder / "project.yaml").write_text(yaml.safe_dump(project | {"card": HOSTILE}))
    command = shlex.split(yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]["card"]["cmd"])
    assert command[:2] == ["mlops", "card"]
    options = dict(zip(command[2::2], command[3::2], strict=True))
    paths = {option: str(ROOT / path) for option, path in options.items()}
    paths |= {"--project": str(folder / "project.yaml")}
    paths |= {"--card-out": str(folder / "card.md"), "--html-out": str(folder / "card.html")}
    assert main(["card", *(part for pair in paths.items() for part in pair)]) == 0
    return folder / "card.html"


@reads_committed_results
def test_hostile_card_text_is_rendered_as_text_and_the_page_loads_nothing(tmp_path: Path) -> None:
    html = write_hostile_card(tmp_path).read_text()
    assert_loads_and_runs_nothing(html)
    for words in SHOWN:
        assert words in html
    links = [attrs["href"] for tag, attrs in parsed(html).tags if tag == "a"]
    assert links == ["https://example.org/team", "mailto:team@example.org"]
    assert '<th class="align-left">left</th>' in html
    assert '<td class="align-right">1</td>' in html


@reads_committed_results
def test_this_repositorys_card_keeps_its_text_and_tables(tmp_path: Path) -> None:
    """The committed card.md as the page renders it: the same page rules, nothing of it lost."""
    markdown = (ROOT / PATHS.card).read_text()
    html = render_html(markdown, "Model card: telco-churn")
    assert_loads_and_runs_nothing(html)
    page = parsed(html)
    assert sum(tag == "table" for tag, _ in page.tags) >= 4
    assert {attrs.get("class") for tag, attrs in page.tags if tag == "td"} == {"align-center"}


@pytest.mark.parametrize(
    ("markdown", "shown"),
    [
        ("![a chart](https://evil.example/x.png)", "<p>a chart</p>"),
        ("![](data:image/gif;base64,R0lGOD=)", "<p>![](data:image/gif;base64,R0lGOD=)</p>"),
        ("[x](vbscript:msgbox)", "<p>[x](vbscript:msgbox)</p>"),
        ("[x](//evil.example/path)", "<p>[x](//evil.example/path)</p>"),
        ("<https://example.org>", '<p><a href="https://example.org">https://example.org</a></p>'),
        ('<a href="https://example.org" onclick="steal()">x</a>', "&lt;a href="),
    ],
)
def test_images_and_links_other_than_web_or_mail_are_text(markdown: str, shown: str) -> None:
    html = render_html(markdown, "t")
    assert_loads_and_runs_nothing(html)
    assert shown in html
