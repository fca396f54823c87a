"""The training data of the default ingest model, projected onto the spaCy-type default schema.

* CoNLL04: Peop→PERSON, Org→ORG, Loc→GPE; Work_For→works_for, Live_In→lives_in,
  Located_In→located_in, OrgBased_In→org_based_in, Kill→kill.
* Re-DocRED date relations: PER→PERSON, ORG→ORG, TIME→DATE; P569 (date of birth)→born_on,
  P571 (inception)→founded_on; only pairs whose tail is a date.

``train`` = CoNLL04 train + Re-DocRED dev, each with negatives sampled down to the number of
positives (seed 13); ``dev`` = CoNLL04 dev + Re-DocRED test with all their negatives, so dev
scores reflect the natural class balance.
"""

from __future__ import annotations

import random
from pathlib import Path

from kgbuild.datasets.conll04 import load_conll04
from kgbuild.datasets.redocred import load_redocred
from kgbuild.datasets.sampling import balance_negatives
from kgbuild.errors import DatasetError
from kgbuild.schema import RelationSchema
from kgbuild.types import NO_RELATION, CandidatePair

CONLL04_TYPES = {"Peop": "PERSON", "Org": "ORG", "Loc": "GPE"}
CONLL04_LABELS = {"Work_For": "works_for", "Live_In": "lives_in", "Located_In": "located_in",
                  "OrgBased_In": "org_based_in", "Kill": "kill"}
REDOCRED_TYPES = {"PER": "PERSON", "ORG": "ORG", "LOC": "GPE", "TIME": "DATE"}
REDOCRED_LABELS = {"P569": "born_on", "P571": "founded_on"}
SEED = 13


def load_default_training(path: Path, split: str = "train") -> list[CandidatePair]:
    """``path`` is the folder holding ``conll04/`` and ``re-docred/`` in their original layout."""
    sources = {"train": ("train", "dev"), "dev": ("dev", "test")}
    if split not in sources:
        raise DatasetError(f"the default-schema data has splits train and dev, not '{split}'")
    conll_split, docred_split = sources[split]
    schema = RelationSchema.bundled("default")
    conll = load_conll04(path / "conll04", conll_split, schema=schema, type_map=CONLL04_TYPES.get,
                         label_map=CONLL04_LABELS)
    dates = load_redocred(path / "re-docred", docred_split, relation_map=REDOCRED_LABELS,
                          type_map=REDOCRED_TYPES.get,
                          keep=lambda head, tail: tail == "DATE" and schema.allows(head, tail))
    if split == "dev":
        return conll + dates
    rng = random.Random(SEED)
    return balance_negatives(conll, NO_RELATION, rng) + balance_negatives(dates, NO_RELATION, rng)
