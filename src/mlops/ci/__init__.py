"""The CI edge that runs without the project's environment: standard library only, every module.

The write-token jobs (pr-comment.yml, drift.yml's history and issue jobs, the pull-request step of
retrain.yml and promote.yml, release.yml's push) check out the default branch and run
`python3 -m mlops.ci.NAME` with `PYTHONPATH=src` and the runner's own Python: they install nothing
and never run a pull request's code. Entry points: `post_comment`, `post_check`, `drift_issue`,
`drift_history`, `pull_request`, `push_image` (`make push-image`), `release_ref` (release.yml's
first step, before any environment is set up).
Their parts, which the `mlops` commands of the other workflow steps (drift-check, ship-log,
retrain, gitops) use too: `process` (the one subprocess wrapper), `rest` (GitHub's REST API through
`gh api`), `git` (a job's token handed to git), `outputs` (the step's outputs and summary). Exit
codes are mlops.errors.Exit. tests/unit/test_ci_stdlib.py holds every module here, and all it
imports, to the standard library. Importing this package does nothing.
"""
