"""The shell blocks of README.md and docs/*.md, read from the docs themselves, and a runner that runs
their lines as a reader would.

Directly above every fenced shell block a doc carries one HTML comment line, invisible when rendered:
`<!-- run by tests/docs/test_FILE.py::test_NAME -->` (that test runs the block's own text, read with
`doc_block`) or `<!-- not run by tests: REASON -->` (REASON says what is missing here). A plain
fence whose first line starts like a command counts as a shell block too: commands are tagged, so
the layout trees and printed outputs in plain fences are not commands. tests/docs/test_markers.py
checks every block has its marker and every named test reads its block.
"""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SHELL_LANGUAGES = {"bash", "sh", "shell", "console"}
COMMAND_WORDS = {"make", "uv", "uvx", "git", "cd", "curl", "mlops", "dvc", "python", "podman", "kubectl", "$"}
FENCE = re.compile(r"^\s*```(\S*)\s*$")
RUN_BY = re.compile(r"^<!-- run by (tests/docs/test_\w+\.py)::(test_\w+) -->$")
NOT_RUN = re.compile(r"^<!-- not run by tests: (\S.*\S) -->$")


@dataclass(frozen=True)
class Block:
    """One fenced shell block: where it is, its marker line (or None) and its text."""

    doc: str
    line: int  # 1-based line of the opening fence
    marker: str | None
    text: str

    @property
    def runner(self) -> tuple[str, str] | None:
        """(test file, test name) when the marker says a test runs this block."""
        found = RUN_BY.match(self.marker or "")
        return (found.group(1), found.group(2)) if found else None


def documents() -> list[str]:
    """The docs a reader is told to follow: README.md and docs/*.md, as paths relative to the repo."""
    return ["README.md", *sorted(str(p.relative_to(REPO)) for p in (REPO / "docs").glob("*.md"))]


def _is_shell(language: str, body: list[str]) -> bool:
    if language in SHELL_LANGUAGES:
        return True
    first = next((line.split()[0] for line in body if line.strip()), "")
    return language == "" and (first in COMMAND_WORDS or first.startswith(".venv/"))


def shell_blocks(doc: str, root: Path = REPO) -> list[Block]:
    """Every shell block of `doc` (a path relative to `root`) with the line above it."""
    lines = (root / doc).read_text().splitlines()
    blocks, index = [], 0
    while index < len(lines):
        opening = FENCE.match(lines[index])
        if not opening:
            index += 1
            continue
        end = next(i for i in range(index + 1, len(lines)) if lines[i].strip() == "```")
        body = lines[index + 1 : end]
        if _is_shell(opening.group(1), body):
            above = lines[index - 1].strip() if index > 0 else ""
            marker = above if above.startswith("<!--") else None
            blocks.append(Block(doc, index + 1, marker, "\n".join(body)))
        index = end + 1
    return blocks


def _strip_comments(command: str) -> str:
    """`command` without its shell comments (a `#` starting a word outside quotes, to the line's end)."""
    out, quote, index = [], "", 0
    while index < len(command):
        char = command[index]
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "#" and (index == 0 or command[index - 1].isspace()):
            index = command.find("\n", index)
            index = len(command) if index < 0 else index
            continue
        out.append(char)
        index += 1
    return "".join(out)


def _complete(command: str) -> bool:
    """True when `command` closes its quotes and does not end in a line continuation."""
    quote = ""
    for char in command:
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
    return not quote and not command.rstrip().endswith("\\")


def commands(text: str) -> list[str]:
    """The commands of a block's text: comments stripped, continuation lines and lines inside an open
    quote joined to their command, blank lines dropped."""
    found, pending = [], ""
    for line in text.splitlines():
        pending = f"{pending}\n{line}" if pending else line
        if _complete(_strip_comments(pending)):
            command = _strip_comments(pending).replace("\\\n", " ").strip()
            if command:
                found.append(command)
            pending = ""
    if pending:
        raise ValueError(f"a block ends inside a quote or a continuation: {pending!r}")
    return found


def doc_block(doc: str, test: str) -> list[str]:
    """The commands of the one shell block of `doc` whose marker names the test function `test`."""
    named = [block for block in shell_blocks(doc) if block.runner and block.runner[1] == test]
    if len(named) != 1:
        raise LookupError(f"{doc}: {len(named)} shell blocks are marked as run by {test}, expected 1")
    return commands(named[0].text)


def reader_env(uv_dir: Path, **extra: str) -> dict[str, str]:
    """A reader's environment: the system's PATH with uv on it, no test virtualenv, uv offline from
    its warm cache (only PyPI is reachable here), no DVC analytics."""
    path = os.pathsep.join(
        part for part in os.environ["PATH"].split(os.pathsep) if not part.startswith(str(REPO / ".venv"))
    )
    outer = {"VIRTUAL_ENV", "PYTHONPATH", "MAKEFLAGS", "MFLAGS", "MAKELEVEL"}  # a terminal has none
    env = {k: v for k, v in os.environ.items() if k not in outer}
    env.update(PATH=f"{uv_dir}{os.pathsep}{path}", UV_OFFLINE="1", DVC_NO_ANALYTICS="1")
    env.update(extra)
    return env


@dataclass(frozen=True)
class Outcome:
    """What a reader sees after one command: its exit code and its output (stdout, then stderr)."""

    code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def run_line(line: str, cwd: Path, env: dict[str, str], timeout: float = 900) -> Outcome:
    """Run one command of a doc with bash in `cwd`, as a reader pastes it into a terminal."""
    done = subprocess.run(
        ["bash", "-c", line], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    return Outcome(done.returncode, done.stdout, done.stderr)


class Reader:
    """A reader at a terminal: runs a doc's commands one by one in `cwd`, following a bare `cd DIR`."""

    def __init__(self, cwd: Path, env: dict[str, str]) -> None:
        self.cwd, self.env = cwd, env

    def run(self, line: str, timeout: float = 900) -> Outcome:
        moved = re.fullmatch(r"cd (\S+)", line)
        if moved:
            self.cwd = (self.cwd / moved.group(1)).resolve()
            return Outcome(0 if self.cwd.is_dir() else 1, "", "")
        return run_line(line, self.cwd, self.env, timeout)

    def answer_defaults(self, line: str, timeout: float = 900) -> Outcome:
        """Run an interactive command in a terminal (a pseudo-terminal, by util-linux's `script`),
        answering each question with Enter, its default, as a reader accepting them would."""
        with tempfile.TemporaryFile() as out:
            process = subprocess.Popen(
                ["script", "-qec", line, "/dev/null"],
                cwd=self.cwd,
                env=self.env,
                stdin=subprocess.PIPE,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
            assert process.stdin is not None
            deadline = time.monotonic() + timeout
            while process.poll() is None and time.monotonic() < deadline:
                with contextlib.suppress(BrokenPipeError):
                    process.stdin.write(b"\r")
                    process.stdin.flush()
                time.sleep(0.5)
            if process.poll() is None:
                process.kill()
            code = process.wait()
            out.seek(0)
            return Outcome(code, out.read().decode(errors="replace"), "")

    def start(self, line: str, log: Path, **env: str) -> subprocess.Popen[bytes]:
        """Start a command that keeps running (a server) in its own process group, output to `log`;
        `env` adds variables (`PORT=...`, as docs/serving.md says to change the port)."""
        with log.open("wb") as out:
            return subprocess.Popen(
                ["bash", "-c", line],
                cwd=self.cwd,
                env={**self.env, **env},
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
