"""Prints JSON: how intelligible each offline voice is on the phone, per language: IVR sentences (with
amounts, dates and codes, written out by `verbalize` as the prompt pipeline does) made by the voice,
passed through the prompt pipeline and G.711 μ-law, and written down by the best recognizer here
(Whisper base, the packaged model, its whole 30 s window, beam search). `wer` is the word error rate
against the words the voice was given; the default voice of each language is the lowest.

    nice -n 15 .venv/bin/python bench/prompt_voices.py [--languages uk ru en]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.speech_set import CACHE, said  # noqa: E402
from ivr.media import g711  # noqa: E402
from ivr.media.verbalize import verbalize  # noqa: E402
from ivr.speech.grammar import normalize  # noqa: E402
from ivr.speech.service import DEFAULT_MODEL_CACHE  # noqa: E402
from ivr.speech.upsample import Upsampler  # noqa: E402
from ivr.speech.whisper_engine import packaged_model  # noqa: E402

SENTENCES = {
    "uk": ["Дякуємо за дзвінок.", "Ваш баланс 21.50 грн.", "Замовлення 0671234 буде доставлено 2026-12-07.",
           "Натисніть один, щоб проголосувати.", "Наш офіс працює до 18:30.", "Оберіть мову обслуговування.",
           "Ваша знижка 5 грн діє до неділі.", "Залишіться на лінії, оператор відповість."],
    "ru": ["Спасибо за звонок.", "Ваш баланс 21.50 грн.", "Заказ 0671234 будет доставлен 2026-12-07.",
           "Нажмите один, чтобы проголосовать.", "Наш офис работает до 18:30.", "Выберите язык обслуживания.",
           "Ваша скидка 5 грн действует до воскресенья.", "Оставайтесь на линии, оператор ответит."],
    "en": ["Thank you for calling.", "Your balance is 21.50 UAH.", "Order 0671234 will arrive on 2026-12-07.",
           "Press one to vote.", "Our office is open until 18:30.", "Please choose your language.",
           "Your discount of 5 UAH is valid until Sunday.", "Please stay on the line for an operator."],
}
VOICES = {
    "uk": ["espeak-ng/uk", "espeak-ng/uk+f2", "espeak-ng/uk+m4", "espeak-ng/uk+klatt3", "espeak-ng/uk@0.85"],
    "ru": ["festival/msu_ru_nsh_clunits", "festival/msu_ru_nsh_clunits@0.9", "espeak-ng/ru", "espeak-ng/ru+f3",
           "espeak-ng/ru-lv"],
    "en": ["flite/rms", "flite/slt", "festival/cmu_us_slt_arctic_hts", "espeak-ng/en-us"],
}


def wer(reference: list[str], hypothesis: list[str]) -> int:
    """Word edits (substitutions, insertions, deletions) between the two."""
    row = list(range(len(hypothesis) + 1))
    for i, ref in enumerate(reference, 1):
        previous, row[0] = row[0], i
        for j, hyp in enumerate(hypothesis, 1):
            previous, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, previous + (ref != hyp))
    return row[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--languages", nargs="+", default=["uk", "ru", "en"])
    args = parser.parse_args()
    from faster_whisper import WhisperModel
    model = WhisperModel(str(packaged_model(DEFAULT_MODEL_CACHE)), device="cpu", compute_type="int8", cpu_threads=1,
                         local_files_only=True)
    out: dict = {"recognizer": "whisper-base (30 s window, beam 5)", "languages": {}}
    for language in args.languages:
        rows = []
        for voice in VOICES[language]:
            edits = words = 0
            heard = []
            for sentence in SENTENCES[language]:
                text = verbalize(sentence, language)
                pcm = said(text, language, voice).astype("<i2").tobytes()
                line = np.frombuffer(g711.decode(g711.PCMU, g711.encode(g711.PCMU, pcm)), dtype="<i2")
                up = np.frombuffer(Upsampler().process(line.tobytes()), dtype="<i2").astype(np.float32) / 32768.0
                segments, _ = model.transcribe(up, language=language, beam_size=5, vad_filter=False,
                                               condition_on_previous_text=False, without_timestamps=True)
                written = " ".join(s.text for s in segments)
                reference = normalize(text).replace("'", "").split()
                edits += wer(reference, normalize(verbalize(written, language)).replace("'", "").split())
                words += len(reference)
                heard.append(written.strip())
            rows.append({"voice": voice, "wer": round(edits / words, 3), "heard": heard[:3]})
            print(json.dumps(rows[-1], ensure_ascii=False), file=sys.stderr, flush=True)
        best = min(rows, key=lambda r: r["wer"])
        out["languages"][language] = {"voices": rows, "best": best["voice"]}
    (CACHE / "prompt_voices.json").write_text(json.dumps(out, ensure_ascii=False, indent=1))
    print(json.dumps(out, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
