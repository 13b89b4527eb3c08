"""mlops drift: compare current data (batches or the inference log) with the training reference.

Only `--current` is needed: the reference (the prepare stage's training split), schema.yaml and
params.yaml come from dvc.yaml, and the reports go to drift/<current's name>/. `--current` may be an
s3:// URL; with `--scheduler` (or MLOPS_DASK_SCHEDULER) the data files are read and summarized on
that Dask cluster's workers (docs/scale.md).

Exit codes: 0 no drift, 1 drift, 2 error (missing, empty, unreadable or schema-breaking data, bad
params), 3 insufficient data (fewer current rows than drift.min_rows).
"""

from __future__ import annotations

import argparse
import logging
import os
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from mlops.errors import ConfigError, Exit, MlopsError
from mlops.project import DRIFT_DIR, find_root, load_project, shown

if TYPE_CHECKING:
    from mlops.drift import DriftResult
    from mlops.drift.performance import PerformanceResult
    from mlops.drift.scoring import ScoreSummary
    from mlops.drift.stream import Map, Scorer
    from mlops.spec.schema import Schema

log = logging.getLogger(__name__)
EXIT_CODES = {"no_drift": Exit.OK, "drift": Exit.VERDICT, "insufficient_data": Exit.TOO_LITTLE_DATA}
SCHEDULER_ENV = "MLOPS_DASK_SCHEDULER"
DASK_MODULES = {"dask", "distributed"}  # the optional extra `cluster` (pyproject.toml)


def add_arguments(parser: argparse.ArgumentParser, out_default: str = f"{DRIFT_DIR}/NAME") -> None:
    """The options; `out_default` is what --help names as --out's default (drift-check's is drift/)."""
    parser.add_argument(
        "--current",
        type=_source,
        required=True,
        help="a batch file or a folder of *.csv, *.parquet, *.jsonl; or an s3:// URL of one or of a prefix",
    )
    parser.add_argument(
        "--scheduler",
        help=f"a Dask scheduler (tcp://HOST:8786) whose workers read and summarize the data files "
        f"(default: ${SCHEDULER_ENV}; unset: this machine does)",
    )
    parser.add_argument(
        "--reference", type=Path, help="reference data, Parquet or CSV (default: the training split)"
    )
    parser.add_argument("--schema", type=Path, help="schema.yaml (default: dvc.yaml's)")
    parser.add_argument("--params", type=Path, help="params.yaml, its drift section (default: dvc.yaml's)")
    parser.add_argument(
        "--out", type=Path, help=f"folder for drift.json, drift.md, drift.html (default: {out_default})"
    )
    parser.add_argument(
        "--model",
        type=Path,
        help="the model, for the performance estimate (default: the project's, with the project's schema)",
    )
    parser.add_argument(
        "--metrics",
        type=Path,
        help="the evaluated metrics, whose decision threshold the model is served at and the estimate uses "
        "(default: the project's, with the project's schema)",
    )
    parser.add_argument(
        "--labelled-reference",
        type=Path,
        help="held-out data with the target, to calibrate the estimate (default: the test split, with the "
        "project's schema)",
    )
    parser.add_argument("--since", type=str, help="keep rows at or after: ISO 8601 time or a span (7d, 24h)")
    parser.add_argument("--until", type=str, help="keep rows before: ISO 8601 time or a span back from now")
    parser.add_argument(
        "--history",
        type=Path,
        help="the previous checks' history (JSON lines; may not exist yet): the report shows the trend "
        "and OUT/history.jsonl gets this check appended",
    )
    parser.add_argument(
        "--data-version", help="the current data's version (default: the md5 of the .dvc file tracking it)"
    )
    parser.add_argument("--run-url", default="", help="link to the CI run, for the issue text")
    parser.add_argument("--report-url", default="", help="link to the HTML report, for the issue text")


def _source(text: str) -> Path | str:
    """--current: a local path, or an s3:// URL kept as text (a Path would fold its `//`)."""
    from mlops.drift.remote import is_url

    return text if is_url(text) else Path(text)


def run(args: argparse.Namespace) -> int:
    from mlops.drift.render import verdict_line

    try:
        _fill_defaults(args)
        result = _check(args)
    except MlopsError as error:
        log.error("drift check failed (exit %d): %s", Exit.ERROR, error)
        return Exit.ERROR
    _write(result, args)
    log.info("%s", verdict_line(result))
    log.info("reports: %s, %s, %s", *(args.out / name for name in ("drift.md", "drift.html", "drift.json")))
    return EXIT_CODES[result.status]


def _fill_defaults(args: argparse.Namespace) -> None:
    """The paths not given on the command line, from dvc.yaml, relative to the current folder.

    The model and the labelled reference default to the project's when the schema is the project's,
    named or not: a model is scored on data of its own schema only. Outside a project every path
    is given and nothing defaults.
    """
    if args.out is None:
        args.out = DRIFT_DIR / _name(args.current)
    args.scheduler = args.scheduler or os.environ.get(SCHEDULER_ENV) or None
    args.metadata = None
    try:
        root = find_root()
    except ConfigError:
        if None in (args.reference, args.schema, args.params):
            raise
        return
    project = load_project(root)
    own_schema = project.absolute(project.schema)
    args.reference = args.reference or shown(project.absolute(project.train))
    args.schema = args.schema or shown(own_schema)
    args.params = args.params or shown(project.absolute(project.params))
    if args.schema.resolve() == own_schema.resolve():
        args.model = args.model or shown(project.absolute(project.model))
        args.labelled_reference = args.labelled_reference or shown(project.absolute(project.test))
        args.metrics = args.metrics or shown(project.absolute(project.metrics))
        args.metadata = shown(project.absolute(project.metadata))


def _name(current: Path | str) -> str:
    """The current data's name for its reports' folder: a file's stem, a folder's or a prefix's name."""
    from mlops.drift.sources import SUFFIXES

    path = PurePosixPath(current)  # the last part of an s3:// URL too
    single = current.is_file() if isinstance(current, Path) else path.suffix in SUFFIXES
    return path.stem if single else path.name


def _check(args: argparse.Namespace) -> DriftResult:
    from dataclasses import replace

    from mlops.drift.scoring import with_performance
    from mlops.drift.sources import parse_time, read_file
    from mlops.drift.stream import stream_check
    from mlops.spec.params import load_params
    from mlops.spec.schema import load_schema

    map_files = _map(args)  # first: a cluster path without Dask fails before any data is read
    schema = load_schema(args.schema)
    params = load_params(args.params).drift
    try:
        since, until = (parse_time(t) if t else None for t in (args.since, args.until))
    except ValueError as error:
        raise MlopsError(f"--since/--until: {error}") from None
    args.previous = _previous_history(args.history)
    reference = read_file(args.reference, schema, params.prediction_column)
    scorer = _scorer(args)
    window = (since, until)
    result, scores = stream_check(reference, args.current, schema, params, window, scorer, map_files)
    if result.status != "insufficient_data":
        result = with_performance(result, _performance(args, scorer, scores, schema))
    bounds = {"since": since, "until": until}
    return replace(result, window={k: None if v is None else v.isoformat() for k, v in bounds.items()})


def _map(args: argparse.Namespace) -> Map:
    """Where the data files are read and summarized: here, or on the Dask cluster at --scheduler."""
    from mlops.drift.stream import local_map

    if not args.scheduler:
        return local_map
    try:
        from mlops.drift.cluster import cluster_map  # Dask is imported on this path only
    except ModuleNotFoundError as error:
        if (error.name or "").partition(".")[0] not in DASK_MODULES:
            raise
        raise MlopsError(
            f"the Dask cluster at '{args.scheduler}' (--scheduler or ${SCHEDULER_ENV}) needs Dask, the "
            f"project's optional extra 'cluster', which this environment lacks ({error}): install it with "
            "`uv sync --extra cluster` (pip: pip install '.[cluster]'; docs/scale.md)"
        ) from None
    log.info("reading %s on the Dask cluster at %s", args.current, args.scheduler)
    return cluster_map(args.scheduler)


def _previous_history(path: Path | None) -> list[dict[str, Any]]:
    """The earlier checks' entries; none when the file does not exist yet (the first check)."""
    from mlops.drift.history import parse

    if path is None or not path.is_file():
        return []
    try:
        return parse(path.read_text(encoding="utf-8"), str(path))
    except ValueError as error:
        raise MlopsError(str(error)) from None


def _history_entry(result: DriftResult, args: argparse.Namespace) -> dict[str, Any]:
    from datetime import UTC, datetime

    from mlops.drift.history import entry

    version = args.data_version or _data_version(args.current)
    now = datetime.now(UTC).isoformat(timespec="seconds")
    return entry(result, now, version, str(args.current))


def _data_version(current: Path | str) -> str | None:
    """The md5 the .dvc file tracking `current` records (production.dvc for production/...), if any;
    none for a URL (the bucket's objects have no .dvc file here)."""
    from mlops.artifacts import data_version
    from mlops.io import read_yaml
    from mlops.project import tracking_file

    if isinstance(current, str):
        return None
    root = Path.cwd().resolve()
    try:
        relative = current.resolve().relative_to(root)
    except ValueError:
        return None  # outside the checkout: no .dvc file here tracks it
    dvc_file = tracking_file(root, relative)
    return data_version(read_yaml(root / dvc_file)) if dvc_file else None


def _scorer(args: argparse.Namespace) -> Scorer | None:
    """The model that scores current rows, with its version and the threshold the service decides
    at: the evaluated one (`--metrics`, mlops.artifacts.decision_threshold), not params.yaml's, which
    may have changed since the model was trained. None when there is no model or labelled reference."""
    from mlops.artifacts import decision_threshold, read_evaluation
    from mlops.drift.stream import Scorer
    from mlops.io import read_json
    from mlops.pipeline.model import load_model
    from mlops.spec.metrics import DEFAULT_THRESHOLD

    paths = (args.model, args.labelled_reference)
    if None in paths or not all(path.is_file() for path in paths):
        return None
    metadata = args.metadata
    version = str(read_json(metadata).get("model_version", "")) if metadata and metadata.is_file() else ""
    if args.metrics is None:
        log.warning("no --metrics given: estimating at probability %g", DEFAULT_THRESHOLD)
    threshold = decision_threshold(read_evaluation(args.metrics) if args.metrics else {})
    return Scorer(load_model(args.model), version, threshold)


def _performance(
    args: argparse.Namespace, scorer: Scorer | None, scores: ScoreSummary | None, schema: Schema
) -> PerformanceResult:
    """The model's estimated performance on the current data, or why there is none."""
    from mlops.drift.performance import PerformanceResult, not_available
    from mlops.drift.scoring import calibrate, estimate_summary
    from mlops.drift.sources import read_file

    if args.model is None or args.labelled_reference is None:
        return not_available(
            "no --model and --labelled-reference given (the project's apply to its own schema only)"
        )
    for path in (args.model, args.labelled_reference):
        if not path.is_file():
            return not_available(f"{path} not found: run the pipeline first (make run, or dvc pull)")
    assert scorer is not None
    labelled = read_file(args.labelled_reference, schema, "")
    reference = calibrate(scorer.model, labelled, schema, scorer.threshold)
    if isinstance(reference, PerformanceResult) or scores is None:
        return reference if isinstance(reference, PerformanceResult) else not_available("no current rows")
    return estimate_summary(reference, scores)


def _write(result: DriftResult, args: argparse.Namespace) -> None:
    from mlops.drift.history import dumps
    from mlops.drift.issue_text import LABEL, closing_comment, issue_text
    from mlops.drift.render import to_html, to_markdown
    from mlops.io import write_json, write_text

    issue = issue_text(result, args.run_url, args.report_url)
    history = None
    if args.history is not None:
        history = [*args.previous, _history_entry(result, args)]
        write_text(args.out / "history.jsonl", dumps(history))
    write_json(args.out / "drift.json", result.to_dict())
    write_text(args.out / "drift.md", to_markdown(result))
    write_text(args.out / "drift.html", to_html(result, history))
    write_json(
        args.out / "issue.json",
        {
            "label": LABEL,
            "title": issue.title,
            "body": issue.body,
            "closing_comment": closing_comment(result, args.run_url),
        },
    )
