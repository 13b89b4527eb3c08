"""The pages' one style sheet (mlops/pages/page.css), and the Content-Security-Policy that allows it
and nothing else.

Every page the project writes (report.html, drift.html, the model card) carries this policy; the
card's matters most, as the service sends it as a header on /card, where the card's words (from
project.yaml, which any pull request can edit) are served from the model's own origin. Apart from
mlops.pages (which renders the pages, with Jinja2) because the service imports nothing it does not
need: the standard library only.
"""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

# Read once, here, so the hash below is always the hash of the text the pages carry.
STYLE = (Path(__file__).parent / "pages" / "page.css").read_text(encoding="utf-8")
# A page may apply its one style sheet, allowed by its hash, and do nothing else: no script, image,
# font, frame, form or base URL, from anywhere, and no `style` attribute. Written into each page, so
# a page opened from a workflow artifact keeps it.
STYLE_HASH = "sha256-" + base64.b64encode(hashlib.sha256(STYLE.encode()).digest()).decode()
PAGE_POLICY = f"default-src 'none'; style-src '{STYLE_HASH}'; base-uri 'none'; form-action 'none'"
# What /card sends: the page's policy, and no framing by another site (a <meta> policy cannot say that).
HEADER_POLICY = f"{PAGE_POLICY}; frame-ancestors 'none'"
