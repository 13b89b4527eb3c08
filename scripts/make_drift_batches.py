"""Write the demo production batches the drift check runs on (`make drift`), from the Telco data.

Seeded, so the same data gives byte-identical batches:
- `2025-01-stable.csv`: 1,000 customers drawn from the same table as the training data;
- `2025-02-drifted.csv`: 1,000 customers after a realistic change: a marketing push shifts the contract
  mix towards month-to-month (about 55% -> 75%) and a price rise lifts monthly charges by 12%.

Each row gets a `timestamp` within its month (for `--since/--until`); there is no `churn` column,
as production data has no labels yet. Usage (then `dvc add production && dvc push production.dvc`):

    python scripts/make_drift_batches.py data/telco_churn.csv production
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

ROWS = 1_000
SEED = 20250101
MONTH_TO_MONTH_WEIGHT = 2.5  # odds 55:45 -> about 75:25
PRICE_RISE = 1.12


def _timestamps(rng: np.random.Generator, month: str, rows: int) -> pd.Series:
    start = pd.Timestamp(f"{month}-01T00:00:00Z")
    seconds = np.sort(rng.integers(0, 28 * 24 * 3600, size=rows))
    return (start + pd.to_timedelta(seconds, unit="s")).strftime("%Y-%m-%dT%H:%M:%SZ")


def stable(frame: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    batch = frame.sample(n=ROWS, random_state=rng).drop(columns=["churn"]).reset_index(drop=True)
    return batch.assign(timestamp=_timestamps(rng, "2025-01", ROWS))


def drifted(frame: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    weights = np.where(frame["contract"] == "Month-to-month", MONTH_TO_MONTH_WEIGHT, 1.0)
    batch = (
        frame.sample(n=ROWS, weights=weights, random_state=rng).drop(columns=["churn"]).reset_index(drop=True)
    )
    batch["monthly_charges"] = (batch["monthly_charges"] * PRICE_RISE).round(2)
    batch["total_charges"] = (batch["total_charges"] * PRICE_RISE).round(2)
    return batch.assign(timestamp=_timestamps(rng, "2025-02", ROWS))


def main(source: Path, out: Path) -> None:
    frame = pd.read_csv(source, dtype={"total_charges": "float64"})
    rng = np.random.default_rng(SEED)
    out.mkdir(parents=True, exist_ok=True)
    stable(frame, rng).to_csv(out / "2025-01-stable.csv", index=False, lineterminator="\n")
    drifted(frame, rng).to_csv(out / "2025-02-drifted.csv", index=False, lineterminator="\n")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
