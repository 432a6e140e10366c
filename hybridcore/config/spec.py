"""The run specification: everything a run is, declared once.

Each field carries its help text (``metadata["help"]``), from which the command line builds
its options (``flows.options``, as Tevatron's dataclass arguments do); the flows take a
``RunSpec`` as a typed parameter, and every stored run and ``training.json`` keeps
``RunSpec.to_dict()``; a stored spec read back with ``RunSpec.from_dict`` runs the same
experiment again. The defaults are the ``quick`` profile's, what ``make run`` runs. Torch-free,
so the command line can show its defaults without loading a model.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any, Literal

Pooling = Literal["mean", "cls"]
Precision = Literal["auto", "bf16", "fp32"]
STRATEGIES = ("mono", "cross", "hybrid")
ALPHA_STRATEGY = "hybrid"  # the one strategy whose batches alpha mixes


def option(default: Any, help: str, *flags: str) -> Any:
    """A field with its command-line help (and extra flag names, e.g. ``--lr``)."""
    return field(default=default, metadata={"help": help, "flags": flags})


@dataclass(frozen=True)
class EncoderSettings:
    """How texts become vectors. ``None`` for pooling, prefixes or length means "what the
    model records" (a sentence-transformers folder, as training writes), else the E5
    defaults (``DEFAULT_ENCODER``). Part of every cache key and run record."""

    pooling: Pooling | None = option(None, "mean or cls (default: the model's own, else mean).")
    query_prefix: str | None = option(None, "Prefix of queries (default: the model's own, else 'query: ').")
    passage_prefix: str | None = option(None, "Prefix of candidates (default: the model's own, else 'passage: ').")
    max_length: int | None = option(None, "Tokens per text at most (default: the model's own, else 512).")
    precision: Precision = option("auto", "auto (bf16 where the CPU or GPU has a fast kernel), bf16 or fp32.")
    tokens_per_batch: int = option(4096, "Tokens per encoding batch (measured best of 1k-16k on 2 AMX cores).")

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


@dataclass(frozen=True)
class TrainConfig:
    """Every knob of a training run. Pooling and prefixes come from the run's encoder settings."""

    strategy: str = option("hybrid", "mono (X-X-mono), cross (X-Y) or hybrid.")
    alpha: float = option(0.5, "hybrid: probability of a monolingual batch (paper: 0.5, stable for 0.4-0.6).")
    batch_size: int = option(16, "Pairs per batch (each a distinct parallel group).")
    steps: int = option(40, "Optimizer steps (early stopping may end sooner).")
    learning_rate: float = option(3e-5, "AdamW learning rate (paper: 3e-5).", "--lr")
    weight_decay: float = option(0.01, "AdamW weight decay (paper: 0.01).")
    warmup_ratio: float = option(0.1, "Share of the steps with a linear warm-up of the learning rate.")
    max_grad_norm: float = option(1.0, "Gradient norm clipped to at most this.")
    temperature: float = option(0.05, "InfoNCE temperature (sentence-transformers: 0.05; LAReQA: 0.01).")
    seed: int = option(42, "Seed of the batches, the validation split and the initialisation.")
    precision: Precision = option("auto", "auto (bf16 autocast where fast), bf16 or fp32.")
    query_max_length: int = option(64, "Tokens per training query at most.")
    passage_max_length: int = option(256, "Tokens per training passage at most.")
    candidate_context: bool = option(False, "Encode positives with their paragraph (LAReQA sets).")
    validation_fraction: float = option(0.1, "Share of training groups held out for the validation loss.")
    validate_every: int = option(20, "Steps between validations.")
    patience: int = option(3, "Validations without improvement before stopping.")
    checkpoint_every: int = option(20, "Steps between checkpoints (a killed run resumes from the last).")


# quick: minutes on 2 CPU cores: a fixed sample of each set (300 XQuAD-R question groups,
# 100 AfriQA questions per language, 100 of SIB-200's test sentences in its 15-language
# subset), candidates without paragraph, 40 training steps. About 490k tokens to encode per
# model instead of 2.1M for the whole sets. standard: the same, trained at three seeds with
# hybrid's alpha sweep, so differences can be told from one run's luck. full: the real
# experiment, all 205 languages, for a GPU.
QUICK_EVAL_SETS = ("xquad-r?sample=300", "afriqa?sample=100", "sib-200?languages=quick&split=test&sample=100")


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


@dataclass(frozen=True)
class RunSpec:
    """One experiment: a base model, its training data, how it is trained (per strategy,
    seed and alpha) and encoded, and the sets it is evaluated on zero-shot.

    ``seeds`` and ``alphas`` make it a grid; empty, they are ``train.seed`` and
    ``train.alpha`` alone. Every strategy is trained at every seed, hybrid at its main alpha
    (``train.alpha`` if among ``alphas``, else the first); the other alphas at the first seed
    only, or at every seed with ``full_grid``."""

    model: str = option("e5-small", "Base model: e5-small, a local folder, or a hub name.")
    train_set: str = option("mlqa-r", "Training data: a LAReQA set (mlqa-r), a .jsonl file, or hf:<dataset>.")
    eval_sets: tuple[str, ...] = option(
        QUICK_EVAL_SETS,
        "Evaluation sets, any format, as references "
        "(name?languages=...&split=...&sample=N; hybridcore.data.formats.registry).",
    )
    strategies: tuple[str, ...] = option(STRATEGIES, "Batch strategies to train.")
    profile: str = option("quick", "The profile the spec was built from (a name, recorded).")
    candidate_context: bool = option(False, "Encode candidates with their paragraph (LAReQA's way).")
    train: TrainConfig = field(default_factory=TrainConfig)
    encoder: EncoderSettings = field(default_factory=EncoderSettings)
    allow_overlap: bool = option(False, "Train even if the zero-shot guard finds overlap (recorded either way).")
    trust_remote_code: bool = option(False, "Allow a hub model's own code to run.")
    seeds: tuple[int, ...] = option((), "Training seeds (empty: train.seed alone).")
    alphas: tuple[float, ...] = option((), "Hybrid's alpha sweep (empty: train.alpha alone).")
    full_grid: bool = option(False, "Every alpha at every seed.")

    def __post_init__(self) -> None:
        # JSON gives lists; a spec is hashable and compares equal however it was read.
        for name in ("eval_sets", "strategies", "seeds", "alphas"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        object.__setattr__(self, "alphas", tuple(float(a) for a in self.alphas))
        unknown = sorted(set(self.strategies) - set(STRATEGIES))
        if unknown:
            raise ValueError(f"unknown strategies {unknown}: use {list(STRATEGIES)}")
        if len(set(self.seeds)) != len(self.seeds) or len(set(self.alphas)) != len(self.alphas):
            raise ValueError(f"seeds {list(self.seeds)} and alphas {list(self.alphas)} must not repeat")
        outside = [a for a in self.alphas if not 0.0 <= a <= 1.0]
        if outside:
            raise ValueError(f"alphas {outside} are not probabilities (0 to 1)")

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
        """The inverse of ``to_dict``; unknown keys are an error, not silently dropped."""
        _check_keys(cls, record, "run spec")
        _check_keys(TrainConfig, record.get("train", {}), "run spec 'train'")
        _check_keys(EncoderSettings, record.get("encoder", {}), "run spec 'encoder'")
        return cls(
            **{
                **record,
                "train": TrainConfig(**record.get("train", {})),
                "encoder": EncoderSettings(**record.get("encoder", {})),
            }
        )

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
        raise ValueError(f"{what}: unknown fields {unknown}")


_QUICK = RunSpec()
PROFILES: dict[str, RunSpec] = {
    "quick": _QUICK,
    # quick's sets and budget, three seeds and hybrid's alpha sweep: 11 models and the reference
    "standard": replace(_QUICK, profile="standard", seeds=(42, 43, 44), alphas=(0.3, 0.5, 0.7)),
    "full": RunSpec(
        profile="full",
        candidate_context=True,
        eval_sets=("xquad-r", "afriqa", "sib-200"),
        train=TrainConfig(steps=1000, batch_size=32, validate_every=100, checkpoint_every=100),
    ),
}


def profile_spec(profile: str, **changes: Any) -> RunSpec:
    """The profile's spec with ``changes``: top-level fields, or ``train``/``encoder`` field
    names, which go to the nested configuration they belong to."""
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}: use {sorted(PROFILES)}")
    spec = PROFILES[profile]
    top = {f.name for f in fields(RunSpec)}
    train_names = {f.name for f in fields(TrainConfig)}
    encoder_names = {f.name for f in fields(EncoderSettings)}
    train = {k: v for k, v in changes.items() if k in train_names and k not in top}
    encoder = {k: v for k, v in changes.items() if k in encoder_names and k not in top and k not in train}
    rest = {k: v for k, v in changes.items() if k not in train and k not in encoder}
    _check_keys(RunSpec, rest, "profile_spec")
    return replace(spec, train=replace(spec.train, **train), encoder=replace(spec.encoder, **encoder), **rest)
