"""What an uploaded voice pack may hold, read as an attacker would send it: archives whose headers lie, links,
paths out of the pack, too many entries, names that are not words; and a tenant's packs apart from another's
and from the node's. No audio is decoded here (see tests/integration/api/test_voice_packs.py for that)."""

from __future__ import annotations

import io
import tarfile
import zipfile
from pathlib import Path

import pytest

from ivr.media.tts import EngineUnavailable
from ivr.media.voice_pack import (
    MAX_FILES, MAX_WORD_BYTES, PackUploadError, TenantPacks, VoicePackEngine, pack_version, qualified, unpack, word_of,
)

WAV = b"RIFF\x24\x00\x00\x00WAVEfmt " + bytes(64)


def zipped(files: dict[str, bytes], **info: int) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            entry = zipfile.ZipInfo(name)
            for key, value in info.items():
                setattr(entry, key, value)
            archive.writestr(entry, data, zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


def tarred(entries: list[tuple[tarfile.TarInfo, bytes | None]], mode: str = "w:gz") -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode=mode) as archive:
        for member, data in entries:
            if data is not None:
                member.size = len(data)
            archive.addfile(member, io.BytesIO(data) if data is not None else None)
    return buffer.getvalue()


def problems(data: bytes) -> list[tuple[str, str]]:
    with pytest.raises(PackUploadError) as caught:
        unpack(data)
    return [(p.file, str(p.message)) for p in caught.value.problems]


def test_names_become_words_in_lower_case() -> None:
    assert word_of("Гривні.WAV") == "гривні" and word_of("п’ять.mp3") == "п'ять" and word_of("brand/Ваш.ogg") == "ваш"
    assert [word_of(n) for n in ("12.wav", "two words.wav", "a_b.wav", "x" * 41 + ".wav", ".wav")] == [None] * 5
    uploads = unpack(zipped({"pack/ВАШ.wav": WAV, "__MACOSX/pack/._ВАШ.wav": b"x", "pack/.DS_Store": b"x"}))
    assert [(u.word, u.file) for u in uploads] == [("ваш", "pack/ВАШ.wav")]


def test_a_zip_bomb_stops_at_what_is_read_not_at_what_it_claims() -> None:
    bomb = zipped({"ваш.wav": WAV + bytes(20 * MAX_WORD_BYTES)})
    assert len(bomb) < 100_000
    assert problems(bomb) == [("ваш.wav", f"a word's recording is at most {MAX_WORD_BYTES} bytes")]


def test_links_paths_and_special_entries_are_refused() -> None:
    link = zipped({"ваш.wav": b"/etc/passwd"}, external_attr=(0o120777 << 16))
    assert problems(link) == [("ваш.wav", "not a plain file (a link, device or other special entry)")]
    assert [f for f, _ in problems(zipped({"../ваш.wav": WAV, "/abs/баланс.wav": WAV, "C:/x/одна.wav": WAV}))] == [
        "../ваш.wav", "/abs/баланс.wav", "C:/x/одна.wav"]
    symlink, hard = tarfile.TarInfo("ваш.wav"), tarfile.TarInfo("баланс.wav")
    symlink.type, symlink.linkname = tarfile.SYMTYPE, "/etc/passwd"
    hard.type, hard.linkname = tarfile.LNKTYPE, "/etc/shadow"
    assert [m for _, m in problems(tarred([(symlink, None), (hard, None)]))] == [
        "not a plain file (a link, device or other special entry)"] * 2


def test_a_tar_member_claiming_too_much_is_refused_before_it_is_read() -> None:
    member = tarfile.TarInfo("ваш.wav")
    member.size = 4 * 1024**3                                  # claims 4 GiB: nothing of it is decompressed
    header = member.tobuf(format=tarfile.GNU_FORMAT)
    assert problems(header + bytes(1024)) == [("ваш.wav", f"a word's recording is at most {MAX_WORD_BYTES} bytes")]


def test_too_many_entries_not_audio_names_and_twice_the_same_word() -> None:
    many = zipped({f"d{n}/": b"" for n in range(MAX_FILES + 1)})
    assert problems(many) == [("", f"the archive has more than {MAX_FILES} entries")]
    assert problems(zipped({"notes.txt": b"hi", "ваш.wav": WAV, "Ваш.mp3": WAV})) == [
        ("notes.txt", "not a recording: name it WORD.wav, WORD.mp3 or WORD.ogg"),
        ("Ваш.mp3", "the word 'ваш' comes twice in the archive")]
    assert problems(b"neither zip nor tar")[0][0] == "" and problems(zipped({}))[0][1] == "the archive holds no recordings"


def test_a_tenants_pack_is_its_own_and_its_version_moves_on(tmp_path: Path) -> None:
    packs = TenantPacks(tmp_path)
    pcm = bytes(1600)
    first = packs.install("t1", "brand", {"ваш": pcm, "баланс": pcm})
    assert first.words == ["баланс", "ваш"] and packs.info("t2", "brand") is None and packs.packs("t2") == []
    second = packs.install("t1", "brand", {"ваш": pcm})
    assert second.version != first.version and second.version.startswith("2-")
    engine = VoicePackEngine(tmp_path)
    assert engine.pack(qualified("t1", "brand")).folder == tmp_path / "_tenants" / "t1" / "brand"
    with pytest.raises(EngineUnavailable, match="no voice pack 'brand'"):
        engine.pack(qualified("t2", "brand"))                     # another tenant's: not reachable
    (tmp_path / "brand").mkdir()
    assert engine.pack(qualified("t2", "brand")).folder == tmp_path / "brand"   # the node's own, shared
    for bad in ("t1/../t1/brand", "../brand", "t1/brand/x", "_tenants"):
        with pytest.raises(EngineUnavailable):
            engine.pack(bad)
    assert engine.voice_version("t1/brand") == f"voice-pack {pack_version(tmp_path / '_tenants' / 't1' / 'brand')}"
    assert packs.remove_word("t1", "brand", "ВАШ") and packs.info("t1", "brand").words == ["баланс"]
    assert packs.remove("t1", "brand") and packs.packs("t1") == []
    with pytest.raises(ValueError):
        packs.folder("../t2", "brand")
