"""The prompt player: back-to-back prompts in 20 ms frames, silence, barge-in and playback events."""

from __future__ import annotations

import pytest

from ivr.media.player import FRAME_BYTES, SILENCE, PlaybackFinished, PlaybackStarted, Player, PlayerError


def samples_of(value: int, count: int) -> bytes:
    return value.to_bytes(2, "little", signed=True) * count


def test_silence_when_nothing_is_queued() -> None:
    player = Player()
    assert not player.playing
    assert player.next_frame() == SILENCE and len(SILENCE) == FRAME_BYTES == 320
    assert player.drain_events() == []


def test_prompts_run_back_to_back_and_only_the_last_is_padded() -> None:
    player = Player()
    player.play("welcome", samples_of(1, 200))          # 1.25 frames
    player.play("menu", samples_of(2, 200))
    frames = [player.next_frame() for _ in range(3)]
    assert frames[0] == samples_of(1, 160)
    assert frames[1] == samples_of(1, 40) + samples_of(2, 120)          # no gap between prompts
    assert frames[2] == samples_of(2, 80) + samples_of(0, 80)           # padded at the very end only
    assert not player.playing
    assert player.next_frame() == SILENCE
    assert player.drain_events() == [PlaybackStarted("welcome"), PlaybackFinished("welcome", False),
                                     PlaybackStarted("menu"), PlaybackFinished("menu", False)]
    assert player.drain_events() == []


def test_events_come_with_the_frames_that_carry_them() -> None:
    player = Player()
    player.play("a", samples_of(5, 320))
    player.next_frame()
    assert player.drain_events() == [PlaybackStarted("a")]
    assert player.playing
    player.next_frame()
    assert player.drain_events() == [PlaybackFinished("a", interrupted=False)]
    assert not player.playing


def test_barge_in_stops_at_once_and_reports_every_prompt() -> None:
    player = Player()
    player.play("question", samples_of(3, 1600))
    player.play("options", samples_of(4, 1600))
    player.next_frame()
    assert player.barge_in()
    assert not player.playing
    assert player.next_frame() == SILENCE
    assert player.drain_events() == [PlaybackStarted("question"), PlaybackFinished("question", interrupted=True),
                                     PlaybackFinished("options", interrupted=True)]
    assert not player.barge_in()
    assert player.drain_events() == []
    player.play("next", samples_of(6, 160))
    assert player.next_frame() == samples_of(6, 160)                    # plays from its start


def test_a_must_hear_prompt_is_not_stopped_nor_skipped() -> None:
    player = Player()
    player.play("notice", samples_of(1, 320), barge_in=False)
    player.play("menu", samples_of(2, 320))
    player.next_frame()
    assert not player.barge_in()                                        # the notice plays on
    assert player.next_frame() == samples_of(1, 160)
    assert player.next_frame() == samples_of(2, 160)
    assert player.barge_in()                                            # the menu may be stopped
    assert player.next_frame() == SILENCE
    player.play("question", samples_of(3, 320))
    player.play("legal", samples_of(4, 160), barge_in=False)
    player.play("options", samples_of(5, 160))
    player.next_frame()
    player.drain_events()
    assert player.barge_in()                                            # the question stops...
    assert player.drain_events() == [PlaybackFinished("question", interrupted=True)]
    assert player.next_frame() == samples_of(4, 160)                    # ...the queued must-hear one plays
    assert player.next_frame() == samples_of(5, 160)


def test_an_empty_prompt_starts_and_finishes_without_taking_time() -> None:
    player = Player()
    player.play("empty", b"")
    player.play("real", samples_of(7, 160))
    assert player.next_frame() == samples_of(7, 160)
    assert [type(e) for e in player.drain_events()] == [PlaybackStarted, PlaybackFinished, PlaybackStarted,
                                                       PlaybackFinished]


def test_odd_byte_counts_are_refused() -> None:
    with pytest.raises(PlayerError):
        Player().play("broken", b"\x00\x01\x02")
