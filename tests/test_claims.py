"""The claims module: verdicts with margins, printed lines, and failure when the prose is contradicted."""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest

from lecture_code import claims

SANITIZE = Path(__file__).parents[1] / "nbval_sanitize.cfg"


@pytest.mark.parametrize(("a", "b", "margin", "verdict"), [
    (1.0, 2.0, 0.5, "holds"), (1.8, 2.0, 0.5, "inconclusive"), (2.2, 2.0, 0.5, "inconclusive"),
    (3.0, 2.0, 0.5, "does not hold"), (1.0, 2.0, 0.0, "holds"), (math.nan, 2.0, 0.0, "does not hold"),
])
def test_less_three_verdicts(a: float, b: float, margin: float, verdict: str) -> None:
    c = claims.less("a is below b", a, b, margin=margin, expect=claims.VERDICTS, quiet=True)
    assert c.verdict == verdict


def test_greater_mirrors_less() -> None:
    for a, b in [(1.0, 2.0), (2.0, 1.0), (1.0, 1.05)]:
        g = claims.greater("", a, b, margin=0.1, expect=claims.VERDICTS, quiet=True).verdict
        l_ = claims.less("", b, a, margin=0.1, expect=claims.VERDICTS, quiet=True).verdict
        assert g == l_


def test_criterion_text() -> None:
    assert claims.less("", 1, 2, margin=0.05, relative=True, labels=("RNN", "uni"), quiet=True).criterion \
        == "RNN < 95% of uni"
    assert claims.greater("", 3, 1, margin=0.5, relative=True, labels=("RNN", "KN"), quiet=True).criterion \
        == "RNN > 150% of KN"
    assert claims.greater("", 3, 1, margin=0.5, labels=("x", "y"), quiet=True).criterion == "x > y + 0.5"
    assert claims.less("", 1, 3, labels=("x", "y"), quiet=True).criterion == "x < y"


def test_relative_margin() -> None:
    assert claims.less("", 95.0, 100.0, margin=0.1, relative=True, expect=claims.VERDICTS,
                       quiet=True).verdict == "inconclusive"
    assert claims.less("", 85.0, 100.0, margin=0.1, relative=True, quiet=True).verdict == "holds"


def test_close_and_at_most() -> None:
    assert claims.close("", 1.0, 1.0 + 1e-13, tol=1e-12, quiet=True).ok
    assert claims.close("", 1.0, 1.1, tol=0.01, expect="does not hold", quiet=True).ok
    assert claims.close("", 100.0, 101.0, tol=0.02, relative=True, quiet=True).ok
    assert claims.at_most("", 1e-17, 1e-12, quiet=True).ok
    assert claims.at_most("", math.inf, 1e-12, expect="does not hold", quiet=True).ok


def test_unexpected_verdict_raises_with_the_statement() -> None:
    with pytest.raises(claims.ClaimError, match="the LSTM beats the RNN"):
        claims.less("the LSTM beats the RNN", 600.0, 500.0, labels=("LSTM", "RNN"), quiet=True)


def test_expect_must_be_a_verdict() -> None:
    with pytest.raises(ValueError, match="expect must be"):
        claims.check("", True, criterion="", expect="maybe", quiet=True)  # type: ignore[arg-type]


def test_printed_lines(capsys: pytest.CaptureFixture[str]) -> None:
    claims.less("the model learns", 1.797, 4.174, margin=1.0, labels=("validation J", "log |V|"))
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "✔ holds: the model learns"
    assert out[1] == "  criterion: validation J < log |V| − 1"
    assert out[2] == "  measured: validation J ≈ 1.797, log |V| ≈ 4.174"


def test_sanitizer_masks_every_measured_digit_and_nothing_else() -> None:
    """Two runs whose digits differ print the same text once the committed sanitizer is applied."""
    patterns = re.findall(r"^regex: (.*)$\n^replace: (.*)$", SANITIZE.read_text(encoding="utf-8"), flags=re.M)
    assert patterns

    def sanitize(s: str) -> str:
        for rx, rep in patterns:
            s = re.sub(rx, rep, s)
        return s

    one = str(claims.less("x", 1.797, 4.174, margin=1, quiet=True)) + " 12,345 tokens in ≈ 14 s"
    two = str(claims.less("x", 1.8123, 4.174, margin=1, quiet=True)) + " 12,345 tokens in ≈ 9 s"
    assert one != two and sanitize(one) == sanitize(two)
    tiny = [str(claims.at_most("err", v, 1e-12, quiet=True)) for v in (1.4e-17, 0.0, 2.2e-16)]
    assert len({sanitize(t) for t in tiny}) == 1
    assert sanitize("validation perplexity = 141.2") == "validation perplexity = 141.2"  # '=' is compared


def test_summary_lists_verdict_lines() -> None:
    c = claims.greater("more is more", 2.0, 1.0, quiet=True)
    assert claims.summary([c]) == "✔ holds: more is more"


def test_show_progress_follows_lecture_code_progress(monkeypatch: pytest.MonkeyPatch) -> None:
    from lecture_code import config

    monkeypatch.setenv("LECTURE_CODE_PROGRESS", "0")
    assert not config.show_progress(True)
    monkeypatch.setenv("LECTURE_CODE_PROGRESS", "1")
    assert config.show_progress(True) and not config.show_progress(False)
