"""The constrained scorer must equal brute-force scoring of every label, whatever the batching.

Tiny randomly initialised models keep this fast; the real SmolLM2 is exercised end to end in
test_pipeline_e2e.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch

from kgbuild.relations.encoding import label_token_ids
from kgbuild.relations.label_tree import LabelTree
from kgbuild.relations.models import LoadedModel
from kgbuild.relations.prompt import PairPrompt
from kgbuild.relations.scorer import CONFIDENCE_DIGITS, LabelScorer

LABELS = ["works_for", "works_at", "lives_in", "located_in", "kill", "no_relation"]
STATIC = "Relation types: works_for, works_at, lives_in, located_in, kill, no_relation.\n"
ANN = "Query sentence: Ann works for Acme in Paris.\n"
DYNAMIC = [
    PairPrompt(ANN, "Head: Ann (PERSON)\nTail: Acme (ORG)\nRelation:"),
    PairPrompt("Query sentence: Bob, who lives in a town called Springfield, spoke.\n",
               "Head: Bob\nTail: Springfield\nRelation:"),
    PairPrompt(ANN, "Head: Acme (ORG)\nTail: Paris (GPE)\nRelation:"),
    PairPrompt("", "Tiny.\nRelation:"),
    PairPrompt(ANN, "Head: Ann (PERSON)\nTail: Paris (GPE)\nRelation:"),
]


@pytest.fixture(scope="module")
def tiny_causal(minilm_tokenizer: Any) -> LoadedModel:
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    tok = minilm_tokenizer
    config = LlamaConfig(vocab_size=tok.vocab_size, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=512,
                         eos_token_id=tok.sep_token_id, pad_token_id=tok.pad_token_id)
    model = LlamaForCausalLM(config).eval()
    tok.eos_token = tok.sep_token
    return LoadedModel(model=model, tokenizer=tok, kind="causal", model_id="tiny-llama")


@pytest.fixture(scope="module")
def tiny_seq2seq(minilm_tokenizer: Any) -> LoadedModel:
    from transformers import BertConfig, EncoderDecoderConfig, EncoderDecoderModel

    torch.manual_seed(0)
    tok = minilm_tokenizer
    small = {"vocab_size": tok.vocab_size, "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2,
             "num_attention_heads": 4, "max_position_embeddings": 512}
    config = EncoderDecoderConfig.from_encoder_decoder_configs(
        BertConfig(**small), BertConfig(**small, is_decoder=True, add_cross_attention=True))
    config.decoder_start_token_id = tok.cls_token_id
    config.pad_token_id = tok.pad_token_id
    config.eos_token_id = tok.sep_token_id
    model = EncoderDecoderModel(config=config).eval()
    tok.eos_token = tok.sep_token
    return LoadedModel(model=model, tokenizer=tok, kind="seq2seq", model_id="tiny-encdec")


def prompt_ids(tok: Any, prompt: PairPrompt) -> list[int]:
    """The layout's tokens: static, sentence part and pair part, each tokenised on its own."""
    return [token for text in (STATIC, prompt.sentence, prompt.pair) for token in
            tok(text, add_special_tokens=False).input_ids]


def causal_step_logp(loaded: LoadedModel, dynamic: PairPrompt, label: list[int]) -> torch.Tensor:
    """[len(label), vocab]: next-token log-probabilities before each label token, from one plain pass."""
    prompt = prompt_ids(loaded.tokenizer, dynamic)
    with torch.no_grad():
        logits = loaded.model(input_ids=torch.tensor([prompt + label])).logits[0].float()
    return torch.log_softmax(logits, dim=-1)[len(prompt) - 1:len(prompt) - 1 + len(label)]


def seq2seq_step_logp(loaded: LoadedModel, dynamic: PairPrompt, label: list[int]) -> torch.Tensor:
    tok = loaded.tokenizer
    ids = torch.tensor([[tok.cls_token_id, *prompt_ids(tok, dynamic), tok.sep_token_id]])
    decoder = torch.tensor([[tok.cls_token_id, *label[:-1]]])
    with torch.no_grad():
        logits = loaded.model(input_ids=ids, attention_mask=torch.ones_like(ids), decoder_input_ids=decoder).logits
    return torch.log_softmax(logits[0].float(), dim=-1)


def brute_force(loaded: LoadedModel, dynamic: PairPrompt, step_logp: Any, mode: str) -> torch.Tensor:
    """Label probabilities from one plain pass per label (no cache, no tree).

    ``sum``: softmax of each label's summed log-probability. ``stepwise``: the product over its
    tokens of the probability renormalised over the tokens some label allows at that step."""
    sequences = label_token_ids(loaded.tokenizer, LABELS)
    scores = []
    for label in sequences:
        logp = step_logp(loaded, dynamic, label)
        score = 0.0
        for i, token in enumerate(label):
            if mode == "stepwise":
                allowed = sorted({seq[i] for seq in sequences if seq[:i] == label[:i]})
                score += float(logp[i, token] - torch.logsumexp(logp[i, allowed], dim=-1))
            else:
                score += float(logp[i, token])
        scores.append(score)
    return torch.softmax(torch.tensor(scores), dim=-1)


ROUNDED = 0.5 * 10 ** -CONFIDENCE_DIGITS + 1e-4  # probabilities leave the scorer rounded


def test_probabilities_leave_rounded_and_ties_go_to_the_label_listed_first(tiny_causal: LoadedModel) -> None:
    scorer = LabelScorer(tiny_causal, LABELS, STATIC)
    even = torch.zeros((2, len(LABELS)))
    even[1, 2] = even[1, 4] = 1e-9  # two labels far closer than the rounding step: a tie after rounding
    decided = scorer._decide(even, [list(range(len(LABELS))), [4, 2]])
    assert decided.best == [0, 2] and decided.confidence[1] == 0.5
    assert all(round(c, CONFIDENCE_DIGITS) == c for c in decided.confidence)


def test_trie_shares_prefixes_and_keeps_every_label(minilm_tokenizer: Any) -> None:
    sequences = label_token_ids(minilm_tokenizer, LABELS)
    tree = LabelTree.build(sequences)
    assert tree.labels == len(LABELS) and [len(steps) + 1 for steps in tree.label_steps] == list(map(len, sequences))
    # "works_for" and "works_at" share their first tokens: fewer internal nodes than label tokens.
    assert 1 + tree.size < sum(len(s) for s in sequences)
    with pytest.raises(ValueError):
        LabelTree.build([[1, 2], [1, 2, 3]])  # a label that is a strict prefix without a terminator


@pytest.mark.parametrize("mode", ["sum", "stepwise"])
@pytest.mark.parametrize("fixture,step_logp", [("tiny_causal", causal_step_logp), ("tiny_seq2seq", seq2seq_step_logp)])
def test_scorer_matches_brute_force(request: pytest.FixtureRequest, fixture: str, step_logp: Any, mode: str) -> None:
    loaded: LoadedModel = request.getfixturevalue(fixture)
    scorer = LabelScorer(loaded, LABELS, STATIC, score=mode, pairs_per_pass=2)  # ANN's three pairs take two passes
    batched = scorer.score(DYNAMIC)
    for row, text in enumerate(DYNAMIC):
        expected = brute_force(loaded, text, step_logp, mode)
        assert torch.allclose(batched.probabilities[row], expected.double(), atol=ROUNDED), (row, text)
        single = scorer.score([text])
        assert torch.allclose(single.probabilities[0], expected.double(), atol=ROUNDED)
        assert batched.best[row] == int(expected.argmax())


def test_stepwise_tree_feeds_only_tokens_that_decide(minilm_tokenizer: Any) -> None:
    sequences = label_token_ids(minilm_tokenizer, LABELS)
    full, stepwise = LabelTree.build(sequences), LabelTree.build(sequences, stepwise=True)
    assert 0 < stepwise.size < full.size
    assert stepwise.choices is not None and len(stepwise.choices[-1]) == len({seq[0] for seq in sequences})
    # each label is scored at the root plus once per node where it must choose among two or more tokens
    for seq, steps in zip(sequences, stepwise.label_steps, strict=True):
        assert all(len(stepwise.choices[node]) > 1 and token in stepwise.choices[node] for node, token in steps)
        assert len(steps) < len(seq)
    # labels that differ at their first token need no node at all
    assert LabelTree.build([[5, 1], [6, 1], [7, 2, 1]], stepwise=True).size == 0


def test_allowed_labels_mask_and_confidence(tiny_causal: LoadedModel) -> None:
    scorer = LabelScorer(tiny_causal, LABELS, STATIC)
    only = [[LABELS.index("kill"), LABELS.index("no_relation")]] * len(DYNAMIC)
    result = scorer.score(DYNAMIC, permitted_labels=only)
    for row in range(len(DYNAMIC)):
        assert LABELS[result.best[row]] in {"kill", "no_relation"}
        probs = result.probabilities[row]
        assert float(probs.sum()) == pytest.approx(1.0, abs=len(LABELS) * ROUNDED)
        assert float(probs[LABELS.index("works_for")]) == 0.0
        assert result.confidence[row] == pytest.approx(float(probs.max()))


def test_overlong_prompt_keeps_its_end(tiny_causal: LoadedModel) -> None:
    scorer = LabelScorer(tiny_causal, LABELS, STATIC, max_prompt_tokens=64)
    long_text = PairPrompt("filler " * 500 + DYNAMIC[0].sentence, DYNAMIC[0].pair)
    result = scorer.score([long_text])
    assert len(result.best) == 1 and 0.0 < result.confidence[0] <= 1.0


def test_a_missing_adapter_is_named(tmp_path: Path) -> None:
    from kgbuild.relations.models import ModelLoadError, attach_adapter

    with pytest.raises(ModelLoadError, match="no adapter_config.json in .*absent"):
        attach_adapter(object(), str(tmp_path / "absent"))


def test_pairs_share_their_sentence_and_scores_do_not_depend_on_company(tiny_causal: LoadedModel) -> None:
    """Structure, not speed: one pass for a sentence, one per pack of pairs; the sentence is fed once."""
    scorer = LabelScorer(tiny_causal, LABELS, STATIC, pairs_per_pass=2)
    tok = tiny_causal.tokenizer
    ann = [p for p in DYNAMIC if p.sentence == ANN]
    alone = scorer.score(ann)
    assert scorer.forward_passes == 1 + 2  # the sentence, then pairs 1-2 and pair 3
    sentence_tokens = len(tok(ANN, add_special_tokens=False).input_ids)
    pair_tokens = sum(len(tok(p.pair, add_special_tokens=False).input_ids) for p in ann)
    assert scorer.tokens_fed == sentence_tokens + pair_tokens + len(ann) * scorer.tree.size
    together = scorer.score(list(reversed(DYNAMIC)))  # other sentences around, another order
    rows = [len(DYNAMIC) - 1 - DYNAMIC.index(p) for p in ann]
    assert torch.equal(together.probabilities[rows], alone.probabilities)  # bit for bit


def test_temperature_tempers_confidence_and_keeps_the_answer(tiny_causal: LoadedModel) -> None:
    """Scores divided by T before the softmax: the tempered probabilities are p ** (1 / T) renormalised,
    which is what `kgbuild calibrate` fits on without a second pass through the model."""
    from kgbuild.evaluation.temperature import tempered

    plain = LabelScorer(tiny_causal, LABELS, STATIC).score(DYNAMIC)
    hot = LabelScorer(tiny_causal, LABELS, STATIC, temperature=3.0).score(DYNAMIC)
    assert hot.best == plain.best
    assert all(h < p for h, p in zip(hot.confidence, plain.confidence, strict=True))  # no row is uniform here
    expected = tempered(plain.probabilities.numpy(), 3.0)
    assert abs(hot.probabilities.numpy() - expected).max() < 0.01  # up to the 3-digit rounding of both
    with pytest.raises(ValueError, match="positive"):
        LabelScorer(tiny_causal, LABELS, STATIC, temperature=0.0)
