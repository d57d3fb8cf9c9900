"""Principal reasons a client can read, over the tiny trained project's clients as the API gives them: one reason
per information family, never one fact twice, never a value both raising and lowering the risk; the families add
up to the model's score; and near the threshold the two main reasons do not flip when amounts move by 1 %."""

from __future__ import annotations

import collections

import numpy as np
import pytest

from credit_scoring.features.families import families

AMOUNTS = ("AMT_CREDIT", "AMT_ANNUITY", "AMT_GOODS_PRICE", "AMT_INCOME_TOTAL")


def explained(service, client_ids: list[int], changes: dict | None = None) -> list:
    scoring = service.scoring
    applications = []
    for client_id in client_ids:
        application = scoring.stored_application(client_id)
        for name, factor in (changes or {}).items():
            if application.get(name) is not None:
                application[name] = application[name] * factor
        applications.append(application)
    return scoring.explanations(applications, client_ids, top=5)


@pytest.fixture(scope="module")
def everyone(service):
    ids = [int(i) for i in service.table.index]
    return dict(zip(ids, explained(service, ids), strict=True))


def test_every_refused_client_s_reasons_are_distinct_families_that_add_up(service, everyone):
    family_map = families(service.bundle.features)
    refused = {i: e for i, e in everyone.items() if e.decision == "refusé"}
    assert len(refused) >= 100
    covered = collections.Counter()
    for client_id, explanation in refused.items():
        raising = [r for r in explanation.reasons if r.direction == "hausse"]
        lowering = [r for r in explanation.reasons if r.direction == "baisse"]
        assert 1 <= len(raising) <= service.scoring.explain.max_reasons, client_id
        named = [r.family for r in explanation.reasons]
        assert len(named) == len(set(named)), (client_id, named)  # a family once, in one direction only
        for reason in explanation.reasons:
            assert family_map[reason.feature] == reason.family or reason.feature.startswith("HAS_")
        raised = {s for r in raising for s in _statements(r.text)}
        assert not raised & {s for r in lowering for s in _statements(r.text)}, client_id  # no fact both ways
        for reason in explanation.reasons:
            said = [statement.rsplit(" : ", 1)[-1] for statement in _statements(reason.text)]
            assert len(said) == len(set(said)), reason.text  # one value said once
        total = sum(f.contribution for f in explanation.families) + explanation.base_value
        assert total == pytest.approx(np.log(explanation.probability / (1 - explanation.probability)), abs=1e-6)
        covered[len({r.family for r in raising[:4]})] += 1
    print(f"refused clients by distinct families among their top four reasons: {dict(sorted(covered.items()))}")
    assert set(covered) <= {1, 2, 3, 4}


def _statements(text: str) -> list[str]:
    """What a reason states about the client: the clauses between its family's name and its closing clause."""
    return text.split(" — ", 1)[1].rsplit(", ce qui", 1)[0].split(" ; ")


def test_the_two_main_reasons_near_the_threshold_do_not_flip_on_one_percent(service, everyone):
    threshold = service.bundle.threshold
    near = sorted(everyone, key=lambda i: abs(everyone[i].probability - threshold))[:300]

    def top_two(explanation) -> tuple[str, ...]:
        return tuple(r.family for r in explanation.reasons if r.direction == "hausse")[:2]

    stable = 0
    for factor in (0.99, 1.01):
        moved = explained(service, near, dict.fromkeys(AMOUNTS, factor))
        stable += sum(top_two(everyone[i]) == top_two(m) for i, m in zip(near, moved, strict=True))
    share = stable / (2 * len(near))
    print(f"top two families unchanged by ±1 % on the amounts: {share:.1%} of {2 * len(near)} cases")
    assert share >= 0.95
