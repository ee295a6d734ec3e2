"""Output read in pieces (pytest's, through `uept run`) is redacted without waiting for a newline."""

from __future__ import annotations

import random

from uept.runtime.secrets import SecretRegistry, StreamRedactor

SECRETS = {"Hunter2.pass-word": "password", "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP": "seed", "493817": "code"}
TEXT = ("....F.s\n...Hunter2.pass-word... [ 40%]\nseed=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP code 493817\n"
        "....Hunter2.pass-wordHunter2.pass-word .. 493817\n.....")


def _registry() -> SecretRegistry:
    r = SecretRegistry()
    for value, label in SECRETS.items():
        r.add(value, label)
    return r


def test_any_split_of_the_stream_gives_the_redaction_of_the_whole() -> None:
    registry = _registry()
    expected = registry.redact(TEXT)
    rng = random.Random(20261202)
    for _ in range(500):
        cuts = sorted(rng.sample(range(1, len(TEXT)), rng.randint(1, 25)))
        pieces = [TEXT[a:b] for a, b in zip([0, *cuts], [*cuts, len(TEXT)], strict=True)]
        s = StreamRedactor(registry)
        out = "".join(s.feed(p) for p in pieces) + s.flush()
        assert out == expected
        assert not any(v in out for v in SECRETS)


def test_progress_dots_pass_at_once_and_only_a_possible_secret_start_waits() -> None:
    s = StreamRedactor(_registry())
    assert s.feed("....") == "...."  # no newline needed
    assert s.feed(".F.H") == ".F."  # "H" may begin the password
    assert s.feed("x") == "Hx"
    assert s.feed("Hunter2.pass") == ""
    assert s.feed("-word.") == "******."
