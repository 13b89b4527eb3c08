"""The push token reaches git as an HTTP header through git's own environment, never elsewhere."""

from __future__ import annotations

import base64
import os
import subprocess
import sys

import pytest

from tests.github.conftest import SRC

PROBE = """
import json, subprocess, sys
sys.path.insert(0, sys.argv[1])
from mlops.ci.git import git_environment
env = git_environment("PUSH_TOKEN", authorize=sys.argv[2] == "yes")
header = subprocess.run(["git", "config", "--get", "http.extraHeader"], env=env,
                        capture_output=True, text=True, check=False).stdout.strip()
print(json.dumps({"header": header, "token_left": "PUSH_TOKEN" in env}))
"""


@pytest.mark.parametrize("authorize", [True, False])
def test_the_token_becomes_a_header_git_reads_and_leaves_the_environment(authorize: bool) -> None:
    env = {**os.environ, "PUSH_TOKEN": "ghs_example"}
    argv = [sys.executable, "-c", PROBE, str(SRC), "yes" if authorize else "no"]
    answer = subprocess.run(argv, env=env, capture_output=True, text=True, check=True).stdout
    expected = base64.b64encode(b"x-access-token:ghs_example").decode()
    assert '"token_left": false' in answer
    if authorize:
        assert f'"header": "AUTHORIZATION: basic {expected}"' in answer
    else:
        assert '"header": ""' in answer
