"""`conflicting_responses`: the same prompt answered with different completions (generative data).

Prompts are compared after normalization (for chat records: every turn before the last assistant turn).
Several answers to one prompt is not always wrong (paraphrases), so findings are warnings; the group is
named by its first row (`cluster`) and each row names one row with a different answer (`conflicts_with`).
Completions that are near duplicates of each other (Jaccard >= `same_threshold`, 0.8, the near-duplicate
default) count as the same answer. Completion and chat data only.
"""

from __future__ import annotations

from collections import defaultdict

from pydantic import BaseModel, ConfigDict, Field

from curate.checks.base import Check, CheckContext
from schemas.findings import CheckResult, CheckStatus, Finding, Severity
from schemas.records import message_text


class ConflictingResponsesParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    same_threshold: float = Field(
        0.8, gt=0, le=1, description="Jaccard at which two answers count as the same"
    )
    shingle: int = 5


def prompt_and_answer(record: dict, kind: str) -> tuple[str, str]:
    if kind == "completion":
        return record["prompt"], record["completion"]
    msgs = record["messages"]
    last = max((i for i, m in enumerate(msgs) if m.get("role") == "assistant"), default=len(msgs) - 1)
    return "\n".join(message_text(m) for m in msgs[:last]), message_text(msgs[last]) if msgs else ""


class ConflictingResponsesCheck(Check):
    name = "conflicting_responses"
    description = "the same prompt with different completions"
    kinds = ("completion", "chat")
    Params = ConflictingResponsesParams

    def run(self, ctx: CheckContext) -> CheckResult:
        from curate.dedup.lsh import jaccard, shingle_set

        kind = str(getattr(ctx.data.kind, "value", ctx.data.kind))
        if kind not in ("completion", "chat"):
            return self.result(
                [], status=CheckStatus.not_applicable, message="only for completion or chat data"
            )
        p = self.params
        ids = ctx.ids
        by_prompt: dict[str, list[int]] = defaultdict(list)
        answers = []
        for i, r in enumerate(ctx.data.records):
            q, a = prompt_and_answer(r, kind)
            by_prompt[q].append(i)
            answers.append(a)
        findings, n_groups = [], 0
        for rows in by_prompt.values():
            if len(rows) < 2:
                continue
            # answers of this prompt clustered greedily: same if identical or Jaccard >= same_threshold
            reps: list[tuple[int, set]] = []
            answer_of: dict[int, int] = {}
            for i in rows:
                s = shingle_set(answers[i], p.shingle)
                for rep, rs in reps:
                    if answers[i] == answers[rep] or jaccard(s, rs) >= p.same_threshold:
                        answer_of[i] = rep
                        break
                else:
                    reps.append((i, s))
                    answer_of[i] = i
            if len(reps) < 2:
                continue
            n_groups += 1
            for i in rows:
                other = next(j for j in rows if answer_of[j] != answer_of[i])
                findings.append(Finding(id=ids[i], reason="conflicting_responses", severity=Severity.warning,
                                        cluster=ids[rows[0]], conflicts_with=ids[other], answers=len(reps)))
        return self.result(findings, summary={"conflict_groups": n_groups, "rows": len(findings)})
