"""The quality gate's verdict as a file beside report.md, for machines: `verdict.json`.

`mlops report` writes it with the report; the pull-request check run reads it (pr-comment.yml's
check job, with the runner's Python: this module imports the standard library only). The verdict is
the pull request's own data, like the report: a reader checks its shape and treats anything else as
"not judged", never as a pass.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

VERDICT_FILE = "verdict.json"


class VerdictError(ValueError):
    """The file is not a verdict of this shape: `{"passed": true|false, "reason": "..."}`."""


@dataclass(frozen=True)
class Verdict:
    passed: bool
    reason: str

    def to_json(self) -> str:
        return json.dumps({"passed": self.passed, "reason": self.reason}, ensure_ascii=False) + "\n"

    @classmethod
    def from_json(cls, text: str) -> Verdict:
        """The verdict in `text`; VerdictError naming the field when it is anything else."""
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            raise VerdictError(f"not JSON ({error})") from None
        if not isinstance(data, dict) or set(data) != {"passed", "reason"}:
            raise VerdictError('expected exactly the keys "passed" and "reason"')
        if not isinstance(data["passed"], bool):
            raise VerdictError(f'"passed" must be true or false, not {data["passed"]!r:.40}')
        if not isinstance(data["reason"], str):
            raise VerdictError(f'"reason" must be text, not {data["reason"]!r:.40}')
        return cls(data["passed"], data["reason"])
