"""A small fake of GitHub's REST API for the real `gh` client: HTTPS on 127.0.0.1, the GitHub Enterprise
`/api/v3` layout, state in memory that the tests read and seed.

Only what the project's scripts call: a pull request's head, a pull request's (issue) comments, issues
listed by label and state, created, edited and closed, labels, and check runs created on a commit. It
behaves like GitHub where the scripts could go wrong: pages of 30 by default (`per_page` up to 100)
with a `Link` header, bodies over 65,536 characters refused with 422, tokens mapped to users (401
otherwise), an existing label refused with 422, pull requests listed among issues; a check run on a
commit the repository does not have, without a name, with an unknown conclusion or with a summary
over 65,535 characters refused with 422. Any other request is answered 404 and recorded in
`unknown`, so a test can assert the client asked for nothing else. The repository's settings
(environments, branch policies, rulesets, teams) are answered by fake_settings.py.
"""

from __future__ import annotations

import json
import re
import ssl
import subprocess
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

from tests.github.fake_settings import Settings, SettingsRoutes

BODY_LIMIT = 65_536  # GitHub's figure, restated: the fake must not trust the code under test
CHECK_SUMMARY_LIMIT = 65_535  # GitHub's limit on a check run's output.summary (and .text), restated
CONCLUSIONS = {  # what GitHub accepts as a check run's conclusion
    "action_required", "cancelled", "failure", "neutral", "skipped", "stale", "success", "timed_out",
}  # fmt: skip
Reply = tuple[int, Any]


@dataclass
class Comment:
    id: int
    issue: int
    user: str
    body: str

    def to_json(self, base: str) -> dict[str, Any]:
        url = f"{base}/issues/comments/{self.id}"
        user = {"login": self.user} if self.user else None  # None: a deleted account ("ghost")
        return {"id": self.id, "url": url, "body": self.body, "user": user}


@dataclass
class Issue:
    number: int
    title: str
    body: str
    user: str
    labels: list[str] = field(default_factory=list)
    state: str = "open"
    state_reason: str | None = None
    head_sha: str | None = None  # set for pull requests only

    def to_json(self, base: str) -> dict[str, Any]:
        data: dict[str, Any] = {
            "number": self.number,
            "title": self.title,
            "body": self.body,
            "state": self.state,
            "state_reason": self.state_reason,
            "user": {"login": self.user},
            "labels": [{"name": name} for name in self.labels],
        }
        if self.head_sha is not None:
            data["pull_request"] = {"url": f"{base}/pulls/{self.number}"}
        return data


@dataclass
class CheckRun:
    """A check run as POST /repos/{owner}/{repo}/check-runs made it; `user` is the token's."""

    id: int
    head_sha: str
    name: str
    status: str
    conclusion: str | None
    output: dict[str, Any]
    user: str

    def to_json(self, base: str) -> dict[str, Any]:
        return {
            "id": self.id,
            "url": f"{base}/check-runs/{self.id}",
            "head_sha": self.head_sha,
            "name": self.name,
            "status": self.status,
            "conclusion": self.conclusion,
            "output": {
                "title": self.output.get("title"),
                "summary": self.output.get("summary"),
                "text": self.output.get("text"),
                "annotations_count": 0,
            },
            "app": {"slug": "github-actions"},
            "pull_requests": [],
        }


@dataclass
class State:
    """Everything the fake knows; tests read it directly."""

    issues: dict[int, Issue] = field(default_factory=dict)
    comments: list[Comment] = field(default_factory=list)
    labels: dict[str, dict[str, str]] = field(default_factory=dict)
    requests: list[tuple[str, str]] = field(default_factory=list)
    opened_pulls: dict[int, dict[str, Any]] = field(default_factory=dict)  # POST /pulls: head, base, ...
    check_runs: list[CheckRun] = field(default_factory=list)
    settings: Settings = field(default_factory=Settings)  # environments, rulesets (fake_settings.py)
    unknown: list[tuple[str, str]] = field(default_factory=list)

    def comments_on(self, number: int) -> list[Comment]:
        return [c for c in self.comments if c.issue == number]

    def labelled(self, label: str) -> list[Issue]:
        return [i for i in self.issues.values() if label in i.labels and i.head_sha is None]


def make_certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for localhost and 127.0.0.1 (valid one day), made with openssl."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-days", "1", "-subj", "/CN=localhost", "-keyout", key, "-out", cert,
         "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


class FakeGitHub:
    """One repository, `owner/name`, served at https://localhost:PORT/api/v3 while started."""

    def __init__(self, repo: str, tokens: dict[str, str], cert: Path, key: Path) -> None:
        self.repo = repo
        self.tokens = tokens  # token -> login
        self.state = State()
        self._settings = SettingsRoutes(repo, self.state.settings, lambda: self.base)
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def host(self) -> str:
        """What `GH_HOST` must be set to."""
        return f"localhost:{self._server.server_address[1]}"

    def start(self) -> FakeGitHub:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    # Seeding, as the tests set a scene up.
    def add_pull(self, head_sha: str, user: str = "contributor") -> int:
        return self._new_issue(f"pull request at {head_sha[:7]}", "", user, head_sha=head_sha).number

    def add_issue(self, title: str, user: str, labels: list[str], state: str = "open") -> Issue:
        issue = self._new_issue(title, "", user)
        issue.labels, issue.state = list(labels), state
        return issue

    def add_comment(self, number: int, user: str, body: str) -> Comment:
        comment = Comment(id=1000 + len(self.state.comments), issue=number, user=user, body=body)
        self.state.comments.append(comment)
        return comment

    def _new_issue(self, title: str, body: str, user: str, head_sha: str | None = None) -> Issue:
        number = len(self.state.issues) + 1
        self.state.issues[number] = Issue(number, title, body, user, head_sha=head_sha)
        return self.state.issues[number]

    # Requests.
    def handle(self, method: str, path: str, query: dict[str, str], user: str, data: Any) -> Reply:
        prefix = f"/api/v3/repos/{self.repo}"
        if method == "GET" and (user_path := re.fullmatch(r"/api/v3/users/([^/]+)", path)):
            with self._lock:
                self.state.requests.append((method, path))
            return self._get_user(user_path.group(1))
        if method == "GET" and (team := re.fullmatch(r"/api/v3/orgs/([^/]+)/teams/([^/]+)", path)):
            with self._lock:
                self.state.requests.append((method, path))
            return self._settings.get_team(*team.groups())
        if path != prefix and not path.startswith(prefix + "/"):
            return self._unknown(method, path)
        rest = path[len(prefix) :]
        for route_method, pattern, action in self._routes() + self._settings.routes():
            match = re.fullmatch(pattern, rest)
            if match and route_method == method:
                with self._lock:
                    self.state.requests.append((method, path))
                    return action(*match.groups(), query=query, user=user, data=data)
        return self._unknown(method, path)

    def _unknown(self, method: str, path: str) -> Reply:
        self.state.unknown.append((method, path))
        return 404, {"message": "Not Found"}

    def _routes(self) -> list[tuple[str, str, Callable[..., Reply]]]:
        return [
            ("GET", r"/pulls/(\d+)", self._get_pull),
            ("POST", r"/pulls", self._create_pull),
            ("GET", r"/issues", self._list_issues),
            ("POST", r"/issues", self._create_issue),
            ("GET", r"/issues/(\d+)", self._get_issue),
            ("PATCH", r"/issues/(\d+)", self._edit_issue),
            ("GET", r"/issues/(\d+)/comments", self._list_comments),
            ("POST", r"/issues/(\d+)/comments", self._create_comment),
            ("PATCH", r"/issues/comments/(\d+)", self._edit_comment),
            ("GET", r"/labels/([^/]+)", self._get_label),
            ("POST", r"/labels", self._create_label),
            ("POST", r"/check-runs", self._create_check_run),
        ]

    @property
    def base(self) -> str:
        return f"https://{self.host}/api/v3/repos/{self.repo}"

    def _get_pull(self, number: str, **_: Any) -> Reply:
        issue = self.state.issues.get(int(number))
        if issue is None or issue.head_sha is None:
            return 404, {"message": "Not Found"}
        return 200, {"number": issue.number, "state": issue.state, "head": {"sha": issue.head_sha}}

    def _create_pull(self, user: str, data: dict[str, Any], **_: Any) -> Reply:
        for name in ("title", "head", "base"):
            if not data.get(name):
                return _invalid("PullRequest", name, "missing_field")
        issue = self._new_issue(data["title"], data.get("body") or "", user, head_sha=data["head"])
        self.state.opened_pulls[issue.number] = {**data, "user": user}
        html_url = f"https://{self.host}/{self.repo}/pull/{issue.number}"
        return 201, {"number": issue.number, "html_url": html_url, "head": {"ref": data["head"]}}

    def _get_issue(self, number: str, **_: Any) -> Reply:
        issue = self.state.issues.get(int(number))
        return (200, issue.to_json(self.base)) if issue else (404, {"message": "Not Found"})

    def _list_issues(self, query: dict[str, str], **_: Any) -> Reply:
        state = query.get("state", "open")
        wanted = [name for name in query.get("labels", "").split(",") if name]
        found = [
            issue.to_json(self.base)
            for issue in sorted(self.state.issues.values(), key=lambda i: -i.number)
            if (state == "all" or issue.state == state) and all(n in issue.labels for n in wanted)
        ]
        return 200, found

    def _create_issue(self, user: str, data: dict[str, Any], **_: Any) -> Reply:
        if not data.get("title"):
            return _invalid("Issue", "title", "missing_field")
        if len(data.get("body") or "") > BODY_LIMIT:
            return _invalid("Issue", "body", "custom")
        issue = self._new_issue(data["title"], data.get("body") or "", user)
        issue.labels = list(data.get("labels") or [])
        for name in issue.labels:  # GitHub makes a missing label on the fly, in grey
            self.state.labels.setdefault(name, {"name": name, "color": "ededed", "description": ""})
        return 201, issue.to_json(self.base)

    def _edit_issue(self, number: str, data: dict[str, Any], **_: Any) -> Reply:
        issue = self.state.issues.get(int(number))
        if issue is None:
            return 404, {"message": "Not Found"}
        if len(data.get("body") or "") > BODY_LIMIT:
            return _invalid("Issue", "body", "custom")
        for key in ("title", "body", "state", "state_reason"):
            if key in data:
                setattr(issue, key, data[key])
        if "labels" in data:
            issue.labels = list(data["labels"])
        return 200, issue.to_json(self.base)

    def _list_comments(self, number: str, **_: Any) -> Reply:
        if int(number) not in self.state.issues:
            return 404, {"message": "Not Found"}
        return 200, [c.to_json(self.base) for c in self.state.comments_on(int(number))]

    def _create_comment(self, number: str, user: str, data: dict[str, Any], **_: Any) -> Reply:
        if int(number) not in self.state.issues:
            return 404, {"message": "Not Found"}
        if len(data.get("body") or "") > BODY_LIMIT:
            return _invalid("IssueComment", "body", "custom")
        return 201, self.add_comment(int(number), user, data["body"]).to_json(self.base)

    def _edit_comment(self, comment_id: str, data: dict[str, Any], **_: Any) -> Reply:
        comment = next((c for c in self.state.comments if c.id == int(comment_id)), None)
        if comment is None:
            return 404, {"message": "Not Found"}
        if len(data.get("body") or "") > BODY_LIMIT:
            return _invalid("IssueComment", "body", "custom")
        comment.body = data["body"]
        return 200, comment.to_json(self.base)

    def _get_user(self, login: str) -> Reply:
        """Any user's public profile (CML asks for the workflow's actor before it posts)."""
        return 200, {"login": unquote(login), "id": 1000 + len(login), "name": None, "type": "User"}

    def _get_label(self, name: str, **_: Any) -> Reply:
        label = self.state.labels.get(unquote(name))
        return (200, label) if label else (404, {"message": "Not Found"})

    def _create_label(self, data: dict[str, Any], **_: Any) -> Reply:
        name = data.get("name", "")
        if name in self.state.labels:
            return _invalid("Label", "name", "already_exists")
        self.state.labels[name] = {
            "name": name,
            "color": data.get("color", "ededed"),
            "description": data.get("description", ""),
        }
        return 201, self.state.labels[name]

    def _create_check_run(self, user: str, data: dict[str, Any], **_: Any) -> Reply:
        """As GitHub: the commit must be the repository's, a completed run needs a known conclusion."""
        head, output = data.get("head_sha") or "", data.get("output") or {}
        if not data.get("name"):
            return _invalid("CheckRun", "name", "missing_field")
        if head not in {i.head_sha for i in self.state.issues.values()}:
            return 422, {"message": f"No commit found for SHA: {head}"}
        status, conclusion = data.get("status", "queued"), data.get("conclusion")
        if conclusion is not None and conclusion not in CONCLUSIONS:
            return _invalid("CheckRun", "conclusion", "invalid")
        if status == "completed" and conclusion is None:
            return _invalid("CheckRun", "conclusion", "missing_field")
        if output and not (output.get("title") and output.get("summary")):
            return _invalid("CheckRun", "output", "missing_field")
        if any(len(output.get(key) or "") > CHECK_SUMMARY_LIMIT for key in ("summary", "text")):
            return 422, {"message": f"Invalid request.\n\nOnly {CHECK_SUMMARY_LIMIT} characters are allowed"}
        run = CheckRun(len(self.state.check_runs) + 1, head, data["name"], status, conclusion, output, user)
        self.state.check_runs.append(run)
        return 201, run.to_json(self.base)


def _invalid(resource: str, field_name: str, code: str) -> Reply:
    return 422, {
        "message": "Validation Failed",
        "errors": [{"resource": resource, "field": field_name, "code": code}],
    }


def _handler(fake: FakeGitHub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self._serve("GET")

        def do_POST(self) -> None:
            self._serve("POST")

        def do_PATCH(self) -> None:
            self._serve("PATCH")

        def do_DELETE(self) -> None:
            self._serve("DELETE")

        def do_PUT(self) -> None:
            self._serve("PUT")

        def _serve(self, method: str) -> None:
            url = urlsplit(self.path)
            query = {k: v[-1] for k, v in parse_qs(url.query).items()}
            raw = self._body()
            user = fake.tokens.get(self.headers.get("Authorization", "").removeprefix("token ").strip())
            if user is None:
                self._send(401, {"message": "Bad credentials"})
                return
            try:
                data = json.loads(raw) if raw else {}
            except json.JSONDecodeError:
                self._send(400, {"message": "Problems parsing JSON"})
                return
            status, payload = fake.handle(method, url.path, query, user, data)
            if method == "GET" and isinstance(payload, list):
                payload, link = _page(payload, query, f"https://{fake.host}{url.path}")
                self._send(status, payload, link)
            else:
                self._send(status, payload)

        def _body(self) -> bytes:
            """The request body, sent whole or chunked (`gh api --input -` streams it in chunks)."""
            if self.headers.get("Transfer-Encoding", "").lower() != "chunked":
                return self.rfile.read(int(self.headers.get("Content-Length") or 0))
            chunks = []
            while size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16):
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            self.rfile.readline()  # the blank line after the last, empty chunk
            return b"".join(chunks)

        def _send(self, status: int, payload: Any, link: str = "") -> None:
            body = b"" if status == 204 else json.dumps(payload).encode()  # 204: no body at all
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            if link:
                self.send_header("Link", link)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


def _page(items: list[Any], query: dict[str, str], url: str) -> tuple[list[Any], str]:
    """One page of a list, as GitHub cuts it (30 by default, at most 100), and its `Link` header."""
    size = min(int(query.get("per_page", 30)), 100)
    page = int(query.get("page", 1))
    last = max(1, -(-len(items) // size))
    others = {k: v for k, v in query.items() if k not in ("page", "per_page")}
    extra = f"&{urlencode(others)}" if others else ""
    links = []
    if page < last:
        links.append(f'<{url}?per_page={size}&page={page + 1}{extra}>; rel="next"')
        links.append(f'<{url}?per_page={size}&page={last}{extra}>; rel="last"')
    return items[(page - 1) * size : page * size], ", ".join(links)
