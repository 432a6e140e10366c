"""The run specification: everything a run is, declared once.

Each field carries its help text (``metadata["help"]``), from which the command line builds
its options (``flows.options``, as Tevatron's dataclass arguments do); the flows take a
``RunSpec`` as a typed parameter, and every stored run and ``training.json`` keeps
``RunSpec.to_dict()``; a stored spec read back with ``RunSpec.from_dict`` runs the same
experiment again. The defaults are the ``quick`` profile's, what ``make run`` runs. Torch-free,
so the command line can show its defaults without loading a model.

The three are pydantic dataclasses: a spec is validated when it is built, whoever builds it
(the command line, a ``--spec`` file, a flow or deployment parameter, ``dataclasses.replace``),
against the types and ranges declared on its fields, and a bad one never starts any work.
pydantic rather than checks of our own: Prefect already validates flow parameters with it, so
the same declarations also give the deployments' parameter schema its bounds. Whole numbers
are strict (``"ten"``, ``2.5`` or ``True`` are not a step count).
"""

from __future__ import annotations

from dataclasses import asdict, field, fields, replace
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, ValidationError, model_validator
from pydantic.dataclasses import dataclass

from hybridcore.config.validation import SPEC_CONFIG, SpecError, spec_problem
from hybridcore.config.watch import WatchList

Pooling = Literal["mean", "cls"]
Precision = Literal["auto", "bf16", "fp32"]
Strategy = Literal["mono", "cross", "hybrid"]
STRATEGIES: tuple[str, ...] = ("mono", "cross", "hybrid")
ALPHA_STRATEGY = "hybrid"  # the one strategy whose batches alpha mixes


def _distinct(values: tuple) -> tuple:
    repeated = sorted({v for v in values if values.count(v) > 1})
    if repeated:
        raise ValueError(f"must not repeat, but {repeated} do")
    return values


Count = Annotated[int, Field(strict=True, ge=1)]
Seed = Annotated[int, Field(strict=True, ge=0, lt=2**32)]
Positive = Annotated[float, Field(gt=0, allow_inf_nan=False)]
Probability = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]
Share = Annotated[float, Field(ge=0, lt=1, allow_inf_nan=False)]
StepShare = Annotated[float, Field(gt=0, le=1, allow_inf_nan=False)]
Flag = Annotated[bool, Field(strict=True)]


def option(default: Any, help: str, *flags: str) -> Any:
    """A field with its command-line help (and extra flag names, e.g. ``--lr``)."""
    return field(default=default, metadata={"help": help, "flags": flags})


@dataclass(frozen=True, config=SPEC_CONFIG)
class EncoderSettings:
    """How texts become vectors. ``None`` for pooling, prefixes or length means "what the
    model records" (a sentence-transformers folder, as training writes), else the E5
    defaults (``DEFAULT_ENCODER``). Part of every cache key and run record."""

    pooling: Pooling | None = option(None, "mean or cls (default: the model's own, else mean).")
    query_prefix: str | None = option(None, "Prefix of queries (default: the model's own, else 'query: ').")
    passage_prefix: str | None = option(None, "Prefix of candidates (default: the model's own, else 'passage: ').")
    max_length: Count | None = option(None, "Tokens per text at most (default: the model's own, else 512).")
    precision: Precision = option("auto", "auto (bf16 where the CPU or GPU has a fast kernel), bf16 or fp32.")
    tokens_per_batch: Count = option(4096, "Tokens per encoding batch (measured best of 1k-16k on 2 AMX cores).")
    packed: Flag = option(
        True,
        "Linear layers on real tokens only, attention on each padded batch (BERT encoders; the same "
        "embeddings, measured bit for bit in fp32 on CPU with PyTorch's linear). Off: the model's own padded forward.",
    )
    prepacked: Flag = option(
        True,
        "On a CPU, linear layers on oneDNN with their weights laid out once and the bias and GELU fused "
        "(BERT encoders; embeddings within rounding of PyTorch's own, not bit for bit). Off: PyTorch's linear.",
    )

    def as_dict(self) -> dict:
        return asdict(self)

    def resolved(self, recorded: dict[str, Any] | None = None) -> EncoderSettings:
        """Every unset field from ``recorded`` (the model's own settings), else the default."""
        recorded = recorded or {}
        values = {}
        for name in ("pooling", "query_prefix", "passage_prefix", "max_length"):
            given = getattr(self, name)
            values[name] = given if given is not None else recorded.get(name, getattr(DEFAULT_ENCODER, name))
        return replace(self, **values)


# The E5 convention (and LAReQA's candidates with their paragraph fit in 512 tokens).
DEFAULT_ENCODER = EncoderSettings(pooling="mean", query_prefix="query: ", passage_prefix="passage: ", max_length=512)


ArmName = Literal["reference", "mono", "cross", "hybrid"]
ALL_LANGUAGES_GROUP = "all languages"  # the figure over every language group (``analysis.coverage``)


@dataclass(frozen=True, config=SPEC_CONFIG)
class Hypothesis:
    """One pre-declared primary hypothesis about ``treatment`` minus ``baseline`` (arms over
    their seeds) on one figure of one dataset: ``superiority`` (better), ``non-inferiority``
    (not worse by more than ``margin``) or ``equivalence`` (within ``margin`` either way,
    TOST). ``better`` overrides the metric's direction (a gap: lower is better). The declared
    hypotheses are one family, corrected together (Holm); every other test is exploratory."""

    name: Annotated[str, Field(min_length=1)]
    dataset: Annotated[str, Field(min_length=1)]
    setting: Annotated[str, Field(min_length=1)]
    metric: Annotated[str, Field(min_length=1)]
    baseline: ArmName
    treatment: ArmName = "hybrid"
    kind: Literal["superiority", "non-inferiority", "equivalence"] = "non-inferiority"
    margin: Annotated[float, Field(ge=0, allow_inf_nan=False)] = 0.0
    languages: Annotated[str, Field(min_length=1)] = ALL_LANGUAGES_GROUP
    better: Literal["higher", "lower"] | None = None

    @model_validator(mode="after")
    def _margin_fits_the_kind(self) -> Hypothesis:
        if self.kind != "superiority" and self.margin <= 0:
            raise ValueError(
                f"a {self.kind} hypothesis needs a margin > 0 (the largest difference that does not matter)"
            )
        if self.treatment == self.baseline:
            raise ValueError(f"treatment and baseline are both {self.treatment!r}")
        return self


def _paper_hypotheses() -> tuple[Hypothesis, ...]:
    """The paper's claims (arXiv 2408.10536, Tables 1-2: hybrid at least as good as mono and
    cross on XQuAD-R's Mo, Cr and Mul mAP, and less language bias), as non-inferiority with
    a margin of 0.01 (mAP; normalised rank distance, 1% of a random ranking's), and the
    question for underrepresented languages: hybrid narrows AfriQA's gap (pivot->pivot minus
    X->pivot nDCG@10, what asking in X costs) more than mono and cross do."""
    out = []
    for baseline in ("mono", "cross"):
        for setting, metric in (("mono", "map"), ("cross", "map"), ("multi", "map"), ("multi", "rank_distance_norm")):
            name = f"XQuAD-R {setting} {metric}: hybrid non-inferior to {baseline}"
            out.append(Hypothesis(name, "xquad-r", setting, metric, baseline, margin=0.01))
    for baseline in ("mono", "cross"):
        name = f"AfriQA gap nDCG@10: hybrid narrower than {baseline}"
        out.append(Hypothesis(name, "afriqa", "gap", "ndcg@10", baseline, kind="superiority", better="lower"))
    return tuple(out)


PRIMARY_HYPOTHESES = _paper_hypotheses()


@dataclass(frozen=True, config=SPEC_CONFIG)
class TrainConfig:
    """Every knob of a training run. Pooling and prefixes come from the run's encoder settings."""

    strategy: Strategy = option("hybrid", "mono (X-X-mono), cross (X-Y) or hybrid.")
    alpha: Probability = option(0.5, "hybrid: probability of a monolingual batch (paper: 0.5, stable for 0.4-0.6).")
    # in-batch negatives need a second pair in the batch
    batch_size: Annotated[int, Field(strict=True, ge=2)] = option(
        16, "Pairs per batch (each a distinct parallel group)."
    )
    steps: Count = option(40, "Optimizer steps (early stopping may end sooner).")
    learning_rate: Positive = option(3e-5, "AdamW learning rate (paper: 3e-5).", "--lr")
    weight_decay: Annotated[float, Field(ge=0, allow_inf_nan=False)] = option(0.01, "AdamW weight decay (paper: 0.01).")
    warmup_ratio: Share = option(0.1, "Share of the steps with a linear warm-up of the learning rate.")
    max_grad_norm: Positive = option(1.0, "Gradient norm clipped to at most this.")
    temperature: Positive = option(0.05, "InfoNCE temperature (sentence-transformers: 0.05; LAReQA: 0.01).")
    seed: Seed = option(42, "Seed of the batches, the validation split and the initialisation.")
    precision: Precision = option("auto", "auto (bf16 autocast where fast), bf16 or fp32.")
    query_max_length: Count = option(64, "Tokens per training query at most.")
    passage_max_length: Count = option(256, "Tokens per training passage at most.")
    candidate_context: Flag = option(False, "Encode positives with their paragraph (LAReQA sets).")
    validation_fraction: Share = option(0.1, "Share of training groups held out for the validation loss.")
    validate_every: Count = option(10, "Steps between validations.")
    patience: Count = option(2, "Validations without improvement before stopping.")
    validation_batches: Count = option(
        16, "Validation batches at most (mono and cross in turn, the same for every arm)."
    )
    mix: Literal["exact", "random"] = option(
        "exact",
        "Hybrid's batch kinds: exact (round(alpha x steps) mono batches in a seeded order) or random "
        "(each batch mono with probability alpha, the paper's).",
    )
    checkpoint_every: Count = option(20, "Steps between checkpoints (a killed run resumes from the last).")
    export_at: Annotated[tuple[StepShare, ...], AfterValidator(_distinct)] = option(
        (),
        "Shares of the steps at which the model is exported and evaluated too (0.25, 0.5, 1: a learning curve).",
    )
    packed: Flag = option(
        True,
        "One forward over the real tokens of queries and positives together (BERT encoders; others "
        "take the padded forward). Off: one padded forward per group.",
    )


# quick: a smoke test of minutes on 2 CPU cores: a fixed sample of each set (100 XQuAD-R
# question groups, 30 AfriQA questions per language, 40 of SIB-200's test sentences in its
# 15-language subset) against a pool of exactly their relevant candidates (pool=sampled, so
# its figures say "sampled pool: not comparable with the benchmark"), candidates without
# paragraph, 40 training steps. About 165k tokens to encode per model (tests/test_profiles.py),
# a third of the former draw's, toward make run's goal of 15 minutes on a 2-core Zen 3 in fp32
# (estimated about 17.5 there, unmeasured: README, "Set-up, run, test").
# standard: the benchmarks' whole sets and pools (XQuAD-R, AfriQA's test split, SIB-200's
# quick subset's test split), trained at three seeds with hybrid's alpha sweep, so
# differences can be told from one run's luck: the profile the README's answer comes from.
# full: the paper-scale experiment, all 205 languages, for a GPU.
QUICK_EVAL_SETS = (
    "xquad-r?sample=100&pool=sampled",
    "afriqa?sample=30&pool=sampled",
    "sib-200?languages=quick&split=test&sample=40&pool=sampled",
)
STANDARD_EVAL_SETS = ("xquad-r", "afriqa", "sib-200?languages=quick&split=test")


@dataclass(frozen=True)
class Arm:
    """One trained model of an experiment: a batch strategy, its training seed and, for
    hybrid, its alpha."""

    strategy: str
    seed: int
    alpha: float | None = None

    @classmethod
    def of(cls, strategy: str, seed: int, alpha: float | None) -> Arm:
        """The arm of a strategy: ``alpha`` kept for hybrid only, the one strategy it mixes."""
        return cls(strategy, seed, alpha if strategy == ALPHA_STRATEGY else None)

    def suffix(self, several_seeds: bool, several_alphas: bool) -> str:
        """The run's name within its experiment: the strategy, then the alpha and the seed
        where the experiment has more than one (``hybrid-alpha0.3-seed43``)."""
        parts = [self.strategy]
        if several_alphas and self.alpha is not None:
            parts.append(f"alpha{self.alpha:g}")
        if several_seeds:
            parts.append(f"seed{self.seed}")
        return "-".join(parts)


@dataclass(frozen=True, config=SPEC_CONFIG)
class RunSpec:
    """One experiment: a base model, its training data, how it is trained (per strategy,
    seed and alpha) and encoded, and the sets it is evaluated on zero-shot.

    ``seeds`` and ``alphas`` make it a grid; empty, they are ``train.seed`` and
    ``train.alpha`` alone. Every strategy is trained at every seed, hybrid at its main alpha
    (``train.alpha`` if among ``alphas``, else the first); the other alphas at the first seed
    only, or at every seed with ``full_grid``."""

    model: Annotated[str, Field(min_length=1)] = option(
        "e5-small", "Base model: e5-small, a local folder, or a hub name."
    )
    train_set: str = option("mlqa-r", "Training data: a LAReQA set (mlqa-r), a .jsonl file, or hf:<dataset>.")
    eval_sets: Annotated[tuple[Annotated[str, Field(min_length=1)], ...], Field(min_length=1)] = option(
        QUICK_EVAL_SETS,
        "Evaluation sets, any format, as references "
        "(name?languages=...&split=...&sample=N&pool=whole|sampled; hybridcore.data.formats.registry).",
    )
    strategies: Annotated[tuple[Strategy, ...], AfterValidator(_distinct)] = option(
        STRATEGIES, "Batch strategies to train."
    )
    profile: str = option("quick", "The profile the spec was built from (a name, recorded).")
    candidate_context: Flag = option(False, "Encode candidates with their paragraph (LAReQA's way).")
    train: TrainConfig = field(default_factory=TrainConfig)
    encoder: EncoderSettings = field(default_factory=EncoderSettings)
    allow_overlap: Flag = option(False, "Train even if the zero-shot guard finds overlap (recorded either way).")
    trust_remote_code: Flag = option(False, "Allow a hub model's own code to run.")
    seeds: Annotated[tuple[Seed, ...], AfterValidator(_distinct)] = option(
        (), "Training seeds (empty: train.seed alone)."
    )
    alphas: Annotated[tuple[Probability, ...], AfterValidator(_distinct)] = option(
        (), "Hybrid's alpha sweep (empty: train.alpha alone)."
    )
    full_grid: Flag = option(False, "Every alpha at every seed.")
    hypotheses: tuple[Hypothesis, ...] = option(
        PRIMARY_HYPOTHESES, "The primary hypotheses, one family corrected together (set in a --spec file)."
    )
    watch: WatchList = field(
        default_factory=WatchList,
        metadata={"doc": "What the nightly evaluates: series of checkpoints or hub revisions (set in a --spec file)."},
    )

    def arms(self) -> list[Arm]:
        """Every model the experiment trains, the first seed's first, so an experiment cut
        short still has one complete seed."""
        seeds = self.seeds or (self.train.seed,)
        alphas = self.alphas or (self.train.alpha,)
        main = self.train.alpha if self.train.alpha in alphas else alphas[0]
        arms = []
        for first, seed in zip([True] + [False] * (len(seeds) - 1), seeds):
            for strategy in self.strategies:
                if strategy != ALPHA_STRATEGY:
                    arms.append(Arm(strategy, seed))
                    continue
                swept = alphas if first or self.full_grid else ()
                arms += [Arm(strategy, seed, alpha) for alpha in sorted({main, *swept})]
        return arms

    def run_suffix(self, arm: Arm | None) -> str:
        """The run's name within the experiment (see ``Arm.suffix``; None: the untrained reference)."""
        return "reference" if arm is None else arm.suffix(len(self.seeds) > 1, len(self.alphas) > 1)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, record: dict[str, Any]) -> RunSpec:
        """The inverse of ``to_dict``, validated: unknown keys, wrong types and values out of
        range are a ``SpecError`` naming them."""
        if not isinstance(record, dict):
            raise SpecError(f"RunSpec: expected an object of fields, got {type(record).__name__}")
        try:
            return cls(**record)
        except ValidationError as err:
            raise SpecError(spec_problem(err)) from None

    def train_config(self, arm: Arm) -> TrainConfig:
        """The training configuration of one arm's run."""
        alpha = arm.alpha if arm.alpha is not None else self.train.alpha
        return replace(self.train, strategy=arm.strategy, seed=arm.seed, alpha=alpha)

    def arm_alpha(self, arm: Arm | None) -> float | None:
        """The alpha a run records: hybrid's, None for every other strategy and the reference."""
        return self.train_config(arm).alpha if arm is not None and arm.strategy == ALPHA_STRATEGY else None

    def arm(self, strategy: str) -> Arm:
        """The arm of a one-model spec (``train``): its strategy at ``train.seed`` and ``train.alpha``."""
        return Arm.of(strategy, self.train.seed, self.train.alpha)


def _check_keys(cls: type, record: dict, what: str) -> None:
    unknown = sorted(set(record) - {f.name for f in fields(cls)})
    if unknown:
        raise SpecError(f"{what}: unknown fields {unknown}")


_QUICK = RunSpec()
PROFILES: dict[str, RunSpec] = {
    "quick": _QUICK,
    # quick's budget on the whole sets and pools, three seeds and hybrid's alpha sweep: 11
    # models and the reference
    "standard": replace(
        _QUICK, profile="standard", eval_sets=STANDARD_EVAL_SETS, seeds=(42, 43, 44), alphas=(0.3, 0.5, 0.7)
    ),
    # the paper-scale experiment, for a GPU (hybrid-eval --device cuda experiment --profile
    # full): whole sets with paragraph context, 1,000 steps of 32 pairs, three seeds
    "full": RunSpec(
        profile="full",
        candidate_context=True,
        eval_sets=("xquad-r", "afriqa", "sib-200"),
        seeds=(42, 43, 44),
        train=TrainConfig(steps=1000, batch_size=32, validate_every=100, checkpoint_every=100),
    ),
}


def profile_spec(profile: str, **changes: Any) -> RunSpec:
    """The profile's spec with ``changes``: top-level fields, or ``train``/``encoder`` field
    names, which go to the nested configuration they belong to."""
    if profile not in PROFILES:
        raise SpecError(f"profile = {profile!r}: unknown; use one of {sorted(PROFILES)}")
    spec = PROFILES[profile]
    top = {f.name for f in fields(RunSpec)}
    train_names = {f.name for f in fields(TrainConfig)}
    encoder_names = {f.name for f in fields(EncoderSettings)}
    train = {k: v for k, v in changes.items() if k in train_names and k not in top}
    encoder = {k: v for k, v in changes.items() if k in encoder_names and k not in top and k not in train}
    rest = {k: v for k, v in changes.items() if k not in train and k not in encoder}
    _check_keys(RunSpec, rest, "profile_spec")
    try:
        return replace(spec, train=replace(spec.train, **train), encoder=replace(spec.encoder, **encoder), **rest)
    except ValidationError as err:
        raise SpecError(spec_problem(err)) from None
