"""A turn's thinking, from a scripted clock and fake chunks: timed from a first token read at clock zero,
and an empty leaked think block beside parsed reasoning."""

from tests.helpers.stream_chunks import accumulate, delta


def test_thinking_time_counts_from_a_first_token_read_at_clock_zero():
    # A clock may read 0.0 (a scripted one does): that first token is still the start of thinking time.
    result = accumulate([delta(0.0, content="Hi. "), delta(1.0, reasoning_content="hmm"),
                         delta(2.0, reasoning_content=" ok"), delta(3.0, content="done")], t_sent=-1.0)
    assert (result.metrics.ttft_s, result.metrics.thinking_s) == (1.0, 2.0)


def test_an_empty_think_block_beside_parsed_reasoning_leaves_neither_tags_nor_blank_thinking():
    # The reasoning parser took the thinking; the content still opens with an empty block (no thought in it).
    result = accumulate([delta(1.0, reasoning="plan A"), delta(2.0, content="<think>\n\n</think>\n\nThe fix.")])
    assert (result.reasoning, result.content) == ("plan A", "The fix.")
    assert result.raw_content == "<think>\n\n</think>\n\nThe fix."
