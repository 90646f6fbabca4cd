import pickle

import pytest

from mexico_localization.facturapi import Secret
from tests.conftest import KEY_TAIL, PLANTED_KEY


def test_secret_prints_as_a_mask_everywhere():
    secret = Secret(PLANTED_KEY)
    for text in (repr(secret), str(secret), f"{secret}", f"{secret!r}", "%s" % secret, "{}".format(secret),  # noqa: UP031, UP032
                 repr([secret]), repr({"k": secret})):
        assert KEY_TAIL not in text
        assert "****" in text


def test_reveal_gives_the_key_back_stripped():
    assert Secret(f"  {PLANTED_KEY}\n").reveal() == PLANTED_KEY


@pytest.mark.parametrize(("key", "environment"), [
    ("sk_test_abc", "Test"), ("sk_live_abc", "Live"), ("sk_user_abc", "User"), ("pk_test_abc", "Unknown"),
])
def test_environment_comes_from_the_key_prefix(key, environment):
    assert Secret(key).environment == environment


def test_secret_is_never_pickled_into_a_job_payload():
    with pytest.raises(TypeError):
        pickle.dumps(Secret(PLANTED_KEY))


def test_secret_is_immutable_and_has_no_dict():
    secret = Secret(PLANTED_KEY)
    with pytest.raises(AttributeError):
        secret._value = "other"
    assert not hasattr(secret, "__dict__")


def test_redact_masks_the_key_in_plain_and_escaped_forms():
    secret = Secret("sk_test_abc\ndefghijklmnop")
    text = f"a {secret.reveal()} b {secret.reveal()!r} c {secret.reveal().encode()!r}"
    redacted = secret.redact(text)
    assert "defghijklmnop" not in redacted
    assert redacted.count("********") == 3


def test_empty_secret_is_falsy():
    assert not Secret("  ")
    assert Secret(PLANTED_KEY)
