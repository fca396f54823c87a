"""Type cues (``entities.type_cues``) on names they were not written for: CoNLL04 dev, typed by its annotators.

    python -m kgbuild.bench.type_cues                      # $KGBUILD_DATA holds conll04/

The cues were written while reading ``examples/eval``; this measures them elsewhere. For every CoNLL04 dev
name that spaCy also found with exactly its span (the set the context classifier's card reports on), it
compares the gold class with spaCy's type, with spaCy overridden by the classifier where it is sure (the
default pipeline without cues), and with a cue overriding both, and counts how often a cue fires and how
often the class it gives is right. Sentences are scored alone, without a document's vote.
"""

from __future__ import annotations

import argparse
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from kgbuild.bench.common import report

REPO = Path(__file__).resolve().parents[2]


def main(argv: Sequence[str] | None = None) -> None:
    from kgbuild.assets import resolve_asset
    from kgbuild.config import load_pipeline
    from kgbuild.datasets.entity_spans import typed_sentences
    from kgbuild.entities.context_types import ContextTyper, coarse_class, retyped, sure_class
    from kgbuild.entities.spacy_ner import load_spacy
    from kgbuild.entities.type_cues import CUE_TYPES, mention_cue
    from kgbuild.training_config import data_root
    from kgbuild.types import Mention, Sentence

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pipeline", type=Path, default=REPO / "pipelines" / "default.yaml")
    parser.add_argument("--data", type=Path, default=None, help="folder holding conll04/ (default $KGBUILD_DATA)")
    parser.add_argument("--limit", type=int, default=None, help="the first N dev sentences only")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)

    entities = load_pipeline(args.pipeline).entities
    if entities.context_types is None:
        parser.error("the pipeline has no entities.context_types classifier to compare the cues with")
    typer = ContextTyper.load(resolve_asset("types", entities.context_types), entities.context_types_threshold)
    nlp = load_spacy(entities.spacy_model)
    dev = typed_sentences(args.data or data_root(), "dev")[:args.limit]
    counts: Counter[str] = Counter()
    for typed, doc in zip(dev, nlp.pipe(s.text for s in dev), strict=True):
        found = {(ent.start_char, ent.end_char): ent.label_ for ent in doc.ents}
        mentions = tuple(Mention(typed.text[s:e], found[(s, e)], s, e) for s, e, _ in typed.spans if (s, e) in found)
        gold = [label for s, e, label in typed.spans if (s, e) in found]
        sentence = Sentence("d", 0, 0, typed.text, mentions)
        vectors = typer.encoder.vectors(typed.text, [(m.start, m.end) for m in mentions])
        for mention, label, vector in zip(mentions, gold, vectors, strict=True):
            sure = None if vector is None else sure_class(typer.model.probabilities(vector[None, :])[0],
                                                          typer.threshold)
            classified = coarse_class(mention.type if sure is None else retyped(mention.type, sure))
            cue = mention_cue(sentence, mention)
            with_cue = classified if cue is None else coarse_class(CUE_TYPES[cue])
            counts["names"] += 1
            counts["spacy right"] += coarse_class(mention.type) == label
            counts["classifier right"] += classified == label
            counts["with cues right"] += with_cue == label
            if cue is not None:
                counts["cues"] += 1
                counts["cues right"] += cue == label
                counts["cues changed right"] += with_cue != classified and with_cue == label
                counts["cues changed wrong"] += with_cue != classified and classified == label
    names = counts["names"]
    rows = [("spaCy", counts["spacy right"] / names),
            ("spaCy + classifier (no cues)", counts["classifier right"] / names),
            ("spaCy + classifier + cues", counts["with cues right"] / names)]
    report("type_cues", ("typing", "accuracy"), rows,
           {"pipeline": str(args.pipeline), "names": names, **{k: v for k, v in counts.items() if k != "names"},
            "cue_precision": counts["cues right"] / counts["cues"] if counts["cues"] else None}, args.out)
    print(f"{names} names; cues fired on {counts['cues']}, right {counts['cues right']}; "
          f"they changed {counts['cues changed right']} answers to right and {counts['cues changed wrong']} to wrong")


if __name__ == "__main__":
    main()
