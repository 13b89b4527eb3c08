"""The same model behind a minimal FastAPI app: what a user would write instead of the BentoML service.

uvicorn fastapi_app:app --app-dir benchmarks, with MODELS_DIR and FASTAPI_PATH=pipeline|compiled.
`pipeline` is the obvious version (a one-row DataFrame through the scikit-learn Pipeline);
`compiled` uses the same lean path as the BentoML service, to separate framework from model cost.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any

from fastapi import FastAPI
from pydantic import BaseModel, Field
from threadpoolctl import threadpool_limits

from mlops.model import load_model
from mlops.schema import request_model
from mlops.serving.bundle import PipelinePredictor, metadata_schema, read_metadata
from mlops.serving.fast import compile_pipeline

MODELS = Path(os.environ.get("MODELS_DIR", "models"))
METADATA = read_metadata(MODELS)
SCHEMA = metadata_schema(METADATA)
Record = request_model(SCHEMA)
MODEL = load_model(MODELS / METADATA["model_file"])
PREDICTOR = (
    compile_pipeline(MODEL)
    if os.environ.get("FASTAPI_PATH") == "compiled"
    else PipelinePredictor(MODEL, tuple(SCHEMA.feature_names))
)
threadpool_limits(1, user_api="openmp")
app = FastAPI()


class Batch(BaseModel):
    records: Annotated[list[Record], Field(min_length=1, max_length=1000)]  # type: ignore[valid-type]


def _answer(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    target = SCHEMA.target
    return [
        {"label": target.positive if p >= 0.5 else target.negative, "probability": p, "model_version": "x"}
        for p in PREDICTOR.positive_proba(records).tolist()
    ]


@app.post("/predict")
async def predict(record: Record) -> dict[str, Any]:  # type: ignore[valid-type]
    return _answer([record.model_dump()])[0]


@app.post("/predict_batch")
async def predict_batch(batch: Batch) -> list[dict[str, Any]]:
    return _answer([r.model_dump() for r in batch.records])
