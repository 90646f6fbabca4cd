import random
from datetime import datetime, timedelta, timezone

import pytest

from mexico_localization.cfdi.policy import RetryPolicy, Step, after_cancel, next_action
from mexico_localization.cfdi.states import CANCEL_IN_FLIGHT, IN_FLIGHT, TRANSITIONS, CfdiState, can_move
from mexico_localization.facturapi.errors import (
    AuthenticationError,
    ConflictError,
    ConnectError,
    InProgress,
    OutcomeUnknown,
    RateLimited,
    ServiceUnavailable,
    StampingRejected,
    ValidationError,
)

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=timezone.utc)
S = CfdiState


def policy(**kw) -> RetryPolicy:
    return RetryPolicy(rng=random.Random(7), **kw)


def test_valid_invoice_is_stamped():
    assert next_action({"status": "valid", "uuid": "u"}, 1, NOW).state is S.STAMPED


def test_pending_invoice_is_polled_not_recreated():
    decision = next_action({"status": "pending", "uuid": None}, 1, NOW, policy())
    assert decision.state is S.PENDING_AT_PAC and decision.at == NOW + timedelta(minutes=10)
    assert not decision.reconcile_first


def test_failed_recovery_is_definitive():
    decision = next_action({"status": "failed"}, 1, NOW)
    assert decision.state is S.FAILED and decision.definitive


def test_unexpected_status_goes_to_a_person():
    assert next_action({"status": "canceled", "uuid": "u"}, 1, NOW).state is S.NEEDS_REVIEW


@pytest.mark.parametrize("error", [
    ValidationError("bad", code="invalid_request", status=400),
    StampingRejected("sat says no", code="invoice_stamping_validation_error", status=400),
    AuthenticationError("bad key", code="api_key_invalid", status=401),
])
def test_definitive_answers_fail_at_once_and_move_the_generation(error):
    decision = next_action(error, 1, NOW, policy())
    assert decision.state is S.FAILED and decision.definitive and decision.at is None
    assert decision.error_code == error.code and error.message in decision.reason


@pytest.mark.parametrize(("error", "reconcile"), [
    (ConnectError("refused", reason="refused"), False),
    (RateLimited("slow down", code="rate_limit_exceeded", status=429), False),
    (ServiceUnavailable("down", code="internal_error", status=500), True),
    (OutcomeUnknown("timeout", reason="read_timeout"), True),
    (InProgress("busy", code="idempotency_key_in_use", status=409), True),
])
def test_transient_failures_retry_later(error, reconcile):
    decision = next_action(error, 1, NOW, policy())
    assert decision.state is S.RETRYING and not decision.definitive
    assert decision.reconcile_first is reconcile
    assert NOW < decision.at <= NOW + timedelta(seconds=30)


@pytest.mark.parametrize("error", [
    ConflictError("La llave de idempotencia ya fue utilizada.", code="conflict", status=400),
    ConflictError("stamped", code="invoice_already_stamped", status=409),
])
def test_a_create_refused_as_a_conflict_is_an_unknown_outcome_never_a_new_document(error):
    """FacturaAPI may answer a replayed idempotency key with an error: the document may exist."""
    decision = next_action(error, 1, NOW, policy())
    assert (decision.state, decision.reconcile_first, decision.definitive) == (S.RETRYING, True, False)
    exhausted = next_action(error, 8, NOW, policy(max_attempts=8))
    assert (exhausted.state, exhausted.reconcile_first, exhausted.definitive) == (S.FAILED, True, False)
    after_look_up = next_action(error, 2, NOW, policy(), looked_up=True)
    assert (after_look_up.state, after_look_up.reconcile_first) == (S.NEEDS_REVIEW, True)
    assert "dashboard" in after_look_up.reason


@pytest.mark.parametrize("error", [
    AuthenticationError("bad key", code="api_key_invalid", status=401),
    RateLimited("slow down", code="rate_limit_exceeded", status=429),
    ConnectError("refused", reason="refused"),
    ValidationError("bad", code="invalid_request", status=400),
    ServiceUnavailable("down", code="internal_error", status=500),
])
@pytest.mark.parametrize("step", [Step.LOOKUP, Step.RETRIEVE])
def test_an_error_of_a_look_up_keeps_the_debt_and_the_generation(error, step):
    """Only a look-up that completed settles a lost answer: whatever the look-up's own error, the next
    try looks up again, and the idempotency key stays the same."""
    for attempt in (1, 8):
        decision = next_action(error, attempt, NOW, policy(max_attempts=8), step=step, reconciling=True)
        assert decision.reconcile_first and not decision.definitive, (error, attempt)
        assert decision.state in {S.RETRYING, S.FAILED}


def test_a_completed_look_up_settles_the_debt_and_the_create_decides_again():
    refused = ConnectError("refused", reason="refused")  # the create never reached FacturaAPI
    assert not next_action(refused, 1, NOW, policy(), reconciling=True, looked_up=True).reconcile_first
    lost = OutcomeUnknown("timeout", reason="read_timeout")
    assert next_action(lost, 1, NOW, policy(), reconciling=True, looked_up=True).reconcile_first


def test_an_absurd_retry_after_is_capped_not_an_overflow():
    for advice in (float("inf"), 1e308, 10**12):
        decision = next_action(RateLimited("slow", code="rate_limit_exceeded", status=429, retry_after=advice),
                               1, NOW, policy())
        assert decision.state is S.RETRYING and decision.at <= NOW + timedelta(days=1, seconds=1)
    assert policy().backoff(10**6) <= 3600
    assert policy().backoff(1, float("nan")) <= 30 and policy().backoff(1, -5) <= 30


def test_backoff_grows_is_capped_and_jittered():
    p = policy(base_delay=10, max_delay=300)
    delays = [p.backoff(n) for n in range(1, 12)]
    for n, delay in enumerate(delays, start=1):
        ceiling = min(300, 10 * 2 ** (n - 1))
        assert ceiling / 2 <= delay <= ceiling
    assert len({round(d, 6) for d in delays[6:]}) > 1  # capped ones still spread out


def test_retry_after_is_honoured_even_beyond_the_cap():
    error = RateLimited("slow", code="rate_limit_exceeded", status=429, retry_after=900)
    decision = next_action(error, 1, NOW, policy(max_delay=60))
    assert decision.at == NOW + timedelta(seconds=900)


def test_attempt_cap_fails_and_remembers_to_reconcile():
    error = OutcomeUnknown("timeout", reason="read_timeout")
    decision = next_action(error, 8, NOW, policy(max_attempts=8))
    assert decision.state is S.FAILED and "attempts exhausted" in decision.reason
    assert decision.reconcile_first and not decision.definitive


def all_errors() -> list:
    """One error of every kind the client raises, as FacturaAPI or the network would produce it."""
    return [ValidationError("bad", code="invalid_request", status=400),
            StampingRejected("sat says no", code="invoice_stamping_validation_error", status=400),
            AuthenticationError("bad key", code="api_key_invalid", status=401),
            ConflictError("stamped", code="invoice_already_stamped", status=409),
            ConnectError("refused", reason="refused"),
            RateLimited("slow down", code="rate_limit_exceeded", status=429, retry_after=30),
            ServiceUnavailable("down", code="internal_error", status=500),
            OutcomeUnknown("timeout", reason="read_timeout"),
            InProgress("busy", code="idempotency_key_in_use", status=409)]


def test_a_cfdi_driven_by_the_policy_only_makes_moves_the_table_allows():
    """Any run of answers, from Queued: each claim and each recorded outcome is a legal move, and
    the run ends Stamped or Failed, and no try at or past the attempt cap is retried (polling a
    pending stamp is not a new try of ours: FacturaAPI is recovering it)."""
    rng = random.Random(11)
    answers = [*all_errors(), {"status": "valid", "uuid": "u"}, {"status": "pending"}, {"status": "failed"}]
    for _ in range(500):
        state, attempt = S.QUEUED, 0
        while state in IN_FLIGHT - {S.STAMPING}:
            assert can_move(state, S.STAMPING)
            attempt += 1
            decision = next_action(rng.choice(answers), attempt, NOW, policy(max_attempts=5))
            assert can_move(S.STAMPING, decision.state), decision
            assert decision.state is not S.RETRYING or attempt < 5
            state = decision.state
        assert state in {S.STAMPED, S.FAILED}
        assert can_move(S.FAILED, S.QUEUED) if state is S.FAILED else S.CANCEL_REQUESTED in TRANSITIONS[state]
    assert CANCEL_IN_FLIGHT <= TRANSITIONS[S.CANCEL_PENDING]


# --- cancellation -------------------------------------------------------------------------------

def test_cancellation_outcomes():
    assert after_cancel({"status": "canceled", "cancellation_status": "accepted"}, 1, NOW).state is S.CANCELLED
    pending = after_cancel({"status": "valid", "cancellation_status": "pending"}, 1, NOW)
    assert pending.state is S.CANCEL_PENDING and pending.at == NOW + timedelta(hours=1)
    verifying = after_cancel({"status": "valid", "cancellation_status": "verifying"}, 1, NOW)
    assert verifying.state is S.CANCEL_PENDING and verifying.at == NOW + timedelta(minutes=5)
    lost = after_cancel({"status": "valid", "cancellation_status": "none"}, 2, NOW, policy())
    assert lost.state is S.CANCEL_REQUESTED and lost.at > NOW
    for answer in ("rejected", "expired"):
        rejected = after_cancel({"status": "valid", "cancellation_status": answer}, 1, NOW)
        assert rejected.state is S.CANCEL_REJECTED and answer in rejected.reason


def test_cancellation_errors_retry_transient_and_stop_on_definitive():
    busy = after_cancel(RateLimited("slow", code="rate_limit_exceeded", status=429, retry_after=120), 1, NOW)
    assert busy.state is S.CANCEL_REQUESTED and busy.at >= NOW + timedelta(seconds=120)
    refused = after_cancel(StampingRejected("no", code="invoice_not_cancelable_by_sat", status=400), 1, NOW)
    assert refused.state is S.CANCEL_REJECTED and refused.error_code == "invoice_not_cancelable_by_sat"
    exhausted = after_cancel(ServiceUnavailable("down", code="internal_error", status=503), 8, NOW)
    assert exhausted.state is S.CANCEL_REJECTED and "attempts exhausted" in exhausted.reason
