"""Hypothesis strategies for hostile input: text of any length, non-ASCII and
control characters included, for the property tests of every parser."""

from __future__ import annotations

from hypothesis import strategies as st

# Header values arrive decoded as latin-1, hence the second alphabet.
ANY_TEXT = st.one_of(
    st.text(max_size=60), st.text(alphabet=st.characters(max_codepoint=0xFF), max_size=60)
)


def text_of_any_length(*shaped: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """Text of up to about 300,000 characters. Hypothesis draws short strings, so a
    long one is built as a head and a repeated unit; ``shaped`` mixes in text
    shaped like the parser's own input (directives, dates, ranges, queries)."""
    piece = st.one_of(ANY_TEXT, *shaped)
    return st.builds(
        lambda head, unit, times: head + unit * times, piece, piece, st.integers(0, 5_000)
    )
