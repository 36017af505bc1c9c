"""The grading engine and its anchor answers."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from coach.config.section import Section


class GradingSettings(Section):
    """The grading engine (coach/grading): evidence score, rubric guards, LLM scorer and judge."""

    env_prefix: ClassVar[str] = "COACH_GRADING_"

    noise_min_chars: int = 16
    """A stretch of ASCII text shorter than this is never judged to be noise."""
    noise_share: float = 0.5
    """A stretch of ASCII is noise (base64, random characters, lorem ipsum) when more
    than this share of its characters are not words, or of its words are lorem ipsum."""
    noise_word_max_chars: int = 24
    """A run of letters and digits longer than this is not a word (base64, hashes)."""
    substance_relevance_z: float = 1.0
    """A sentence of the answer is on the question when its e5 contrast towards the
    question or the question's material reaches this (see grading/substance.py)."""
    specific_max_zipf_en: float = 4.0
    """An English word is a specific term when its general-language frequency (wordfreq's
    Zipf scale) is at most this: dropout 3.08, batch 3.91, kappa 3.46; important 5.44,
    label 4.43, people 6.25."""
    specific_max_zipf_zh: float = 3.8
    """The same for a Chinese word: 标注 3.76, 剪枝 2.44, 优化 4.52, 重要 5.75."""
    substance_explained_chars: int = 6
    """Content characters a sentence needs beyond its terms to count as explained."""
    substance_outside_weight: float = 0.25
    """Credit of a rare Chinese word the user's material never uses (保驾护航, 方法论:
    rare, but not terms of the field); English terms and numbers count 1. Chosen on the
    train splits (2026-12-07): interview train Pearson 0.851 / 0.867 / 0.873 at 0.5 /
    0.25 / 0.1, LE train 0.810 at all three; 0.1 puts the train split's expert answers
    below 7.5 (7.44), so 0.25 (expert 7.60, long empty talk 3.59 instead of 4.1)."""
    substance_card_weight: float = 0.6
    """Credit of a term the card's own reference uses: the card recited is a textbook
    answer (an interviewer's 6-7), content beyond it an expert's (8-9). Chosen on the
    train split of eval/interview.jsonl."""
    substance_bare_weight: float = 0.25
    """Credit per term in a sentence that only lists terms (a bare list)."""
    substance_density: float = 0.06
    """Specific terms per character (grading/substance.py ``_units``) from which a
    sentence earns its terms' full credit; below it, in proportion. Expert sentences pack
    3-5 terms into 30-50 characters; long empty talk has one rare word in 40 (复盘,
    保驾护航), which alone earned long empty answers a depth they do not have."""
    substance_terms_per_sentence: int = 4
    """Most specific terms one sentence is credited for."""
    substance_scale: float = 8.0
    """depth = 1 - exp(-credited terms / this): the credited terms that take depth to
    63%."""
    material_k: int = 4
    """Passages retrieved for the question (cards and article chunks) that join the
    card as the material an answer may draw on."""
    retrieval_k: int = 3
    """Cards retrieved for a free-text question; the best one is the reference."""
    reference_cache: int = Field(default=4096, ge=1)
    """Questions (and batch reference cells) whose reference is remembered per process."""
    token_max_length: int = 512
    """Tokens the encoder reads at once (e5's limit); a longer answer is read in
    windows of this size less ``window_margin``, cut at sentence ends."""
    window_margin: int = 16
    """Tokens of a window left for the ``query:`` prompt and the special tokens."""
    answer_read_chars: int = Field(default=20_000, ge=100)
    """An answer is graded on at most this many characters (about 80 minutes of speech);
    the rest is not read, and the grade says so (flag ``truncated``). Bounds the work a
    300,000-character paste makes."""
    token_layer: int = 10
    """Which of e5-small's 12 layers gives the token vectors the evidence score aligns:
    chosen on LE's train split (layers 6-12 tried; 9-10 best, the last layer worst,
    as BERTScore found for other models). See eval/README.md."""
    idf_power: float = 2.0
    """Token weight = IDF ** this (chosen on LE train and half of Mohler's questions)."""
    question_token_weight: float = 0.0
    """Weight of tokens the question itself has: restating the question earns nothing."""
    precision_weight: float = 0.25
    """Share of answer-side precision mixed into reference recall (padding costs)."""
    evidence_full_share: float = 0.9
    """Full credit when an answer closes this share of the gap between unrelated text
    (the target's background floor) and a verbatim copy of the reference: the median
    evidence of the LE train answers people scored 10 is 0.93 of that gap. Lower values
    saturate more answers at 10, which costs Pearson on every set."""
    weight_points: float = 0.5
    """Weight of soft key-point coverage beside whole-reference agreement."""
    formula_evidence_weight: float = 0.85
    """The evidence (agreement with the card) enters the content at this weight: saying
    the card's points in any words is a textbook answer, not yet an expert's."""
    formula_max_share: float = 0.7
    """Content = this share of max(evidence, depth) plus the rest of their mean
    (grading/formula.py): credit for saying the card's points or other specific,
    on-question content, not both twice."""
    score_curve: list[tuple[float, float]] = Field(
        default_factory=lambda: [(0.0, 0.0), (1.0, 10.0)]
    )
    """Knots (content 0-1, score 0-10) of the piecewise-linear map to the 0-10 scale."""
    point_covered: float = 0.75
    """Soft coverage (0-1) from which a key point shows as covered ..."""
    point_partial: float = 0.45
    """... and as partly covered, when the rubric's names and terms missed it."""
    card_match_min: float = 0.87
    """e5 cosine (query: prefix on both sides) between the asked question and the best
    card's closest phrasing below which the card is flagged ``no_matching_card``.
    Paraphrases of corpus questions score 0.89-0.97, unrelated questions 0.78-0.86."""
    dont_know_max_chars: int = 30
    """An answer this short (without spaces) that says "不知道" / "没接触过" is an honest
    non-answer (flag ``dont_know``): scored 0, told the point, not called empty."""
    takeaway_covered_share: float = 0.6
    """Share of the card's points (made in full 1, in part 0.5) from which the one-line
    "why" says the main points were made (grading/explain.py)."""
    takeaway_some_share: float = 0.25
    """... and from which it says part of them were."""
    takeaway_explained_depth: float = 0.3
    """Depth (0-1) from which those points count as explained rather than named."""
    band_floors: dict[str, float] = Field(
        default_factory=lambda: {"excellent": 8.0, "good": 6.0, "fair": 4.0}
    )
    """Lowest score of each band word shown beside a score (the issue's scale: a strong
    answer 8-9, a textbook one 6-7, bare terms 3-4); below "fair" reads "weak"."""
    other_route_depth: float = 0.5
    """From this depth (0-1) an answer took its own valid route: the card's other
    points are worded as what the reference also mentions, and the follow-up asks about
    the candidate's own content (grading/explain.py)."""
    min_answer_chars: int = 4
    """An answer with fewer letters/CJK characters than this is ``empty``."""
    clause_min_chars: int = 4
    """Clauses shorter than this are merged into their neighbour before matching."""
    z_covered: float = 2.6
    """A sentence covers a key point when its e5 similarity to the point stands this
    many standard deviations above its similarity to unrelated background sentences
    (coach/grading/background.txt). Relative, not absolute: e5 cosines are compressed
    (0.80-0.95) and lower across languages, but the contrast holds in both."""
    z_partial: float = 1.8
    lexical_label_strength: float = 0.6
    """Match strength (0-1) of a sentence that names a point's label or English alias."""
    lexical_term_weight: float = 0.5
    """Extra strength from the share of the point's explanation terms the sentence has."""
    match_covered: float = 0.75
    """Combined match strength (0-1) at or above which a point is covered ..."""
    match_partial: float = 0.45
    """... and at or above which it is partly covered."""
    bare_mention_chars: int = 6
    """A sentence that names a point with fewer other content characters than this is a
    bare mention (keyword stuffing): the point counts as partial at most."""
    stuffing_share: float = 0.6
    """Share of matched points made by bare mentions from which the answer is flagged
    ``keyword_stuffing``."""
    stuffing_chars_per_point: float = 12.0
    """... and only when the answer has fewer content characters than this besides the
    points' names, per name it uses (an explained list is not stuffing)."""
    stuffing_cap: float = 5.0
    off_topic_z: float = 1.5
    """An answer none of whose sentences reaches this z against any key point or the
    question, and that names no point, is ``off_topic``."""
    off_topic_cap: float = 1.0
    empty_score: float = 0.0
    injection_cap: float = 2.0
    """Most an answer that instructs the grader can score, whatever else it contains."""
    point_group_sim: float = 0.97
    """Key points whose labels are this similar (or share an alias) are one point for
    coverage: merged cards repeat points (早期停止 / 提前停止 share "Early Stopping").
    High on purpose: short labels embed alike (数据并行 / 模型并行 ~0.95)."""
    expected_share: float = 0.7
    """A complete answer is expected to make this share of the (grouped) key points;
    merged cards hold the union of several reference answers, more than anyone says."""
    mostly_wrong_share: float = 0.5
    """When at least this share of the points an answer speaks about are contradicted
    (and at least two), the answer is mostly wrong: capped at ``mostly_wrong_cap``."""
    mostly_wrong_cap: float = 2.0
    off_question_rank: int = 5
    """An answer (in the card's language) to which this many other cards of the bank
    are closer than the asked card, by e5 over question and key points, is about
    another question: flagged off-topic (a long, literate answer about inference to a
    question about overfitting scored 6-7 on its terms before)."""
    off_question_close_own: float = 0.893
    """An answer at least this close to the asked card (e5 cosine over question and key
    points) counts a rival only when the rival is closer by ``off_question_margin``, as
    an answer that makes two of the card's points does. Why: a broad question
    ("如何处理训练中的计算资源限制问题？") has neighbours (fine-tuning, compression,
    distributed training) that each fit a strong answer a little better; that answer
    (LoRA, 4-bit, ZeRO: 0.906 to its card, six cards 0.001-0.006 closer) read 1.0
    off-topic in a Chromium interview, while another card's reference (0.904, eight cards
    0.017-0.054 closer) must stay off-topic. 0.893 was chosen on the interview set's train
    split: off-point answers 0.871-0.888 to their card, every other answer 0.897 or
    closer."""
    off_question_min_chars: int = 80
    """Only answers this long are checked for being about another card: a short
    answer's one vector says too little (short on-topic answers were flagged)."""
    off_question_max_matched: int = 1
    off_question_margin: float = 0.01
    """An answer that makes more than ``off_question_max_matched`` of the asked card's
    points counts a rival card only when the rival is closer to it by this much (e5
    cosine, which packs a bank's cards within 0.85-0.95). A plain-words answer about
    overfitting (惩罚项, 神经元失活, 翻转裁剪, 停下来) made three of the card's points and
    sat 0.001-0.005 closer to five neighbouring cards: it was flagged off-topic. Another
    card's reference, which matches two points by accident, sits 0.01-0.05 closer to ten;
    long answers about another topic match at most one point and are judged by rank."""
    rival_same_card: float = 0.95
    """Cards whose profile is this similar to the asked card's are the same question
    (not merged duplicates) and are not counted as rivals."""
    contradiction_penalty: float = 0.6
    """Each contradicted point removes this share of the correctness factor's headroom."""
    support_min_strength: float = 1.01
    """The rubric's sentence match supports a key point in the answer's own language too
    when at least this strong (above 1: only across languages, where token alignment is
    weak). See eval/README.md for the choice on LE's train split."""
    llm_mode: Literal["scorer", "judge"] = "scorer"
    """``scorer``: the LLM gives one score token, read as the expected value of its
    log-probs (seconds on a CPU); ``judge``: the older per-point JSON verdict with
    feedback (a minute or more per answer on a CPU)."""
    scorer_max_tokens: int = 1
    scorer_top_logprobs: int = 10
    scorer_cache_size: int = Field(default=4096, ge=0)
    """Scores kept per grader, by prompt: the same answer to the same card is asked once
    per process, so a batch with repeated answers saves those requests and a regrade does
    not depend on what else the server was batching at the time (vLLM does not promise
    identical log-probs across batch compositions). 0 turns it off."""
    weight_scorer: float = 0.0
    """Share of the final score from the LLM's check for an answer of at least
    ``short_answer_chars`` content characters (grading/formula.py). Belongs to the model:
    ``coach eval fit-weight`` measures the served model on the train splits of
    eval/interview.jsonl and LE and stores this, ``weight_scorer_short`` and
    ``short_answer_chars`` in coach.toml. The defaults are the 1.5B pack's (eval/README.md,
    "LLM weight by length"): the small model helps on short answers and hurts on long ones."""
    weight_scorer_short: float = 0.5
    """The LLM's share for an answer under ``short_answer_chars`` content characters."""
    short_answer_chars: int = Field(default=40, ge=0)
    """Content characters (letters, digits, Chinese characters) below which an answer
    takes ``weight_scorer_short``; 0 gives every answer ``weight_scorer``."""
    use_anchors: bool = True
    """Grade against a card's full anchor as one more reference, and let its anchors
    inform the confidence."""
    anchor_calibration: bool = False
    """Remap the evidence score per card through its anchors (wrong -> target_wrong,
    partial -> target_partial). Off by default: no evaluation set has anchors for most
    of its questions, so the remapping is measured only on eval/grading.jsonl."""
    anchor_target_wrong: float = 0.1
    anchor_target_partial: float = 0.5
    anchor_min_gap: float = 0.05
    """Anchors whose evidence scores are closer than this (or out of order) calibrate
    nothing: the LLM wrote a partial answer as good as its wrong one."""
    llm_max_lift: float = 3.0
    """The LLM may raise the rubric's score by at most this many points."""
    judge_max_tokens: int = 900
    """Completion budget of one judge call (the JSON verdict for ~12 points)."""
    judge_timeout: float = 600.0
    """Seconds for one judge call, including its wait behind the other calls of a batch
    (``batch_concurrency``): on this 2-core CPU server four concurrent 1.5B judge calls
    take about four minutes each, so the 120 s ``llm_timeout`` made every one of them
    time out and fall back to the rubric. A refused connection still fails at once."""
    judge_attempts: int = 2
    """Tries for a judge call that times out or cannot connect (tenacity, with backoff)."""
    judge_backoff: float = 1.0
    judge_cooldown: float = 30.0
    """After the server fails, skip the LLM for this many seconds (a batch of 10,000
    rows does not wait for 10,000 timeouts); the rubric grades meanwhile."""
    answer_max_chars: int = 6_000
    """The judge sees at most this much of the answer (the rubric reads all of it)."""


class AnchorSettings(Section):
    """Anchor answers per card, written by the LLM (`coach anchors generate`)."""

    env_prefix: ClassVar[str] = "COACH_ANCHORS_"

    max_tokens: int = 220
    """Completion budget of one anchor call (one short spoken answer)."""
    max_chars: int = 300
    """An anchor answer is cut at a sentence end within this many characters."""
    timeout: float = 900.0
    """Seconds one anchor call may take (a 1.5B model on a CPU writes ~6 tokens/s)."""
