"""A small PyTorch income classifier on UCI Adult, for auditing through the CLI.

Importing this module trains the network (a few seconds on CPU, seeded, the same weights
on every import on the same machine) and exposes it as ``model``, a
:class:`~audit.adapters.torch.TorchAdapter` whose input encoding is a declared
scikit-learn ``ColumnTransformer`` (one-hot categories, standardised numbers).  The
explanations auditor uses Integrated Gradients on it and credits each one-hot input back
to its column.  From the repository root::

    maas-audit run --model examples.torch_model:model --data examples/data/adult.csv \\
        --target income --positive-label '>50K' --sensitive sex,race \\
        --policy examples/explanations-policy.yaml --out reports/torch

(``module:attribute`` is imported with the working directory on ``sys.path``, so
``examples.torch_model`` resolves from the repository root.)  Columns the encoding does not
read (``fnlwgt``, ``relationship``, ...) get no attribution; ``--features`` can leave them out.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import torch
from sklearn.compose import ColumnTransformer
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from audit.adapters.torch import TorchAdapter

__all__ = ["CATEGORICAL", "FEATURES", "NUMERIC", "model", "train"]

DATA = Path(__file__).resolve().parent / "data" / "adult.csv"
TARGET = "income"
POSITIVE = ">50K"
CATEGORICAL = ["workclass", "education", "marital-status", "occupation", "race", "sex"]
NUMERIC = ["age", "education-num", "capital-gain", "capital-loss", "hours-per-week"]
FEATURES = CATEGORICAL + NUMERIC
SEED = 20240501
EPOCHS = 150


def train(frame: pd.DataFrame, *, seed: int = SEED, epochs: int = EPOCHS) -> TorchAdapter:
    """Fit the encoding and a one-hidden-layer MLP on ``frame``; return it as an adapter.

    Full-batch Adam on the CPU with a fixed seed and one thread, so that the weights do not
    depend on the machine's thread count.
    """
    encode = ColumnTransformer(
        [
            ("categorical", OneHotEncoder(handle_unknown="ignore"), CATEGORICAL),
            ("numeric", StandardScaler(), NUMERIC),
        ],
        sparse_threshold=0.0,
    )
    x = np.asarray(encode.fit_transform(frame[FEATURES]), dtype=np.float32)
    y = (frame[TARGET].astype(str).str.strip() == POSITIVE).to_numpy(dtype=np.float32)
    threads = torch.get_num_threads()
    generator = torch.Generator().manual_seed(seed)
    torch.set_num_threads(1)
    try:
        module = torch.nn.Sequential(
            torch.nn.Linear(x.shape[1], 32), torch.nn.ReLU(), torch.nn.Linear(32, 1)
        )
        with torch.no_grad():
            for parameter in module.parameters():
                parameter.uniform_(-0.1, 0.1, generator=generator)
        inputs, labels = torch.from_numpy(x), torch.from_numpy(y).unsqueeze(1)
        optimiser = torch.optim.Adam(module.parameters(), lr=0.02)
        loss = torch.nn.BCEWithLogitsLoss()
        for _ in range(epochs):
            optimiser.zero_grad()
            loss(module(inputs), labels).backward()
            optimiser.step()
    finally:
        torch.set_num_threads(threads)
    return TorchAdapter(module, encode=encode, output="logits", device="cpu")


def _training_rows() -> pd.DataFrame:
    """Half of UCI Adult, drawn with the fixed seed; the other half is for auditing."""
    frame = pd.read_csv(DATA, skipinitialspace=True)
    return frame.sample(frac=0.5, random_state=SEED)


model: TorchAdapter = train(_training_rows())
"""The trained classifier: a binary logit, sigmoid applied by the adapter."""
