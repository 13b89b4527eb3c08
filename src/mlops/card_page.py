"""The model card page's style sheet, and the Content-Security-Policy that allows it and nothing else.

Apart from mlops.card (which renders the page, with markdown-it) because the service sends the same
policy as a header on /card and imports nothing it does not need: the standard library only.
"""

from __future__ import annotations

import base64
import hashlib

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; padding: 0 1.5rem; max-width: 900px;
       color: #1f2328; line-height: 1.5; }
table { border-collapse: collapse; margin: 0.5rem 0 1.5rem; }
th, td { border: 1px solid #d0d7de; padding: 4px 10px; }
code { background: #eff1f3; padding: 0 3px; border-radius: 3px; }
.align-left { text-align: left; } .align-center { text-align: center; } .align-right { text-align: right; }
"""
# The page may apply its own style sheet, allowed by its hash, and do nothing else: no script, image,
# font, frame, form or base URL, from anywhere, and no `style` attribute. Written into the page, so a
# card opened from a report artifact keeps it.
STYLE_HASH = "sha256-" + base64.b64encode(hashlib.sha256(STYLE.encode()).digest()).decode()
PAGE_POLICY = f"default-src 'none'; style-src '{STYLE_HASH}'; base-uri 'none'; form-action 'none'"
# What /card sends: the page's policy, and no framing by another site (a <meta> policy cannot say that).
HEADER_POLICY = f"{PAGE_POLICY}; frame-ancestors 'none'"
