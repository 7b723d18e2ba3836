"""Speech answers: grammar-restricted recognition of what a caller says to an `ask` node.

`recognizer.py` is the interface (an engine makes one recognizer per listening call), `grammar.py`
turns a `ListenSpec` into the phrases that may be said, `vad.py` decides when the caller starts and
stops, `whisper_engine.py` (the ask's answers scored by Whisper), `sphinx.py` and `vosk_engine.py` are
the engines, and `service.py` picks the engine per language, loads each model once and runs
recognition on workers off the event loop.
"""
