"""Voice packs: a business's recorded words, played one after another to say any text made of them,
values included (as Asterisk's SayNumber plays digits/1.gsm, digits/20.gsm ...), so a brand with a
recorded voice gets order numbers, balances, dates and times in that voice.

A pack is a folder `ROOT/NAME/` of recordings named by the word they say, `гривні.wav`, `п'ять.mp3`,
`ваш.ogg`, in lower case (WAV, MP3 or OGG). A text is said word by word after `verbalize.words`
(numbers, money, dates, times and codes written out with agreement), each word from its recording,
with a short pause between. `VoicePackEngine` is the TTS engine `voice-pack` (the voice is the pack's
name): campaigns choose it like any engine (`voice: {engine: voice-pack, voice: brand}`), and a prompt
with a word the pack lacks cannot be made, with the missing words listed (so a campaign using it is
refused on upload). `missing` lists what a pack lacks to say every value of a language.

Packs come from two places. The node's own are folders `ROOT/NAME/` the operator puts there. A business
uploads its own through the API (`TenantPacks`): they live in `ROOT/_tenants/TENANT/NAME/` (`_` starts no
pack name, so no node pack is ever a tenant's folder), each word converted once at upload to a telephony
WAV, with a version file counting its changes. A tenant's campaign names a pack by its plain name; the
engine asks for `TENANT/NAME` (`qualified`), so a campaign reaches its own tenant's pack of that name, else
the node's, never another tenant's. Uploads are read with limits against hostile archives (`unpack`): the
number of files, the bytes actually read of each (not what the archive claims), the total, no links or
paths outside the pack, names that are words; every file is decoded with its container forced and at most
MAX_WORD_SECONDS long (`convert`), so what is stored is audio the node made itself.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import tarfile
import tempfile
import unicodedata
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import numpy as np

from ivr.i18n import Message, t

from . import audio
from .tts import EngineUnavailable, SynthesisFailed, UnsupportedLanguage, base_language
from .verbalize import NUMERALS, vocabulary, words

SUFFIXES = (".wav", ".mp3", ".ogg")
GAP = 0.06                       # s of silence between two words
_NAME = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)*")
PACK_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
TENANTS = "_tenants"             # ROOT/_tenants/TENANT/PACK: the packs businesses upload
VERSION_FILE = ".version"
MAX_ARCHIVE = 32 * 1024 * 1024   # bytes of one uploaded archive
MAX_FILES = 1000                 # entries of an archive (folders and skipped files included)
MAX_WORDS = 2000                 # words of one pack
MAX_WORD_BYTES = 2 * 1024 * 1024  # bytes of one recording, as read (an archive's claims are not trusted)
MAX_UNPACKED = 128 * 1024 * 1024  # bytes read out of one archive in all
MAX_WORD_SECONDS = 5.0           # one word's recording
MAX_WORD_LENGTH = 40             # characters of a word
SKIPPED = re.compile(r"(^|/)(__MACOSX|\.[^/]*)(/|$)|(^|/)(Thumbs\.db|desktop\.ini)$", re.IGNORECASE)


def word_key(word: str) -> str:
    """A word as a pack names its file: lower case, any apostrophe as '."""
    return re.sub(r"[’ʼ`]", "'", word.lower())


class VoicePack:
    """One pack's folder of recorded words."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)

    def recordings(self) -> dict[str, Path]:
        """Word → its recording."""
        if not self.folder.is_dir():
            return {}
        return {word_key(p.stem): p for p in sorted(self.folder.iterdir())
                if p.suffix.lower() in SUFFIXES and _NAME.fullmatch(p.stem)}

    def missing(self, language: str, texts: list[str] = []) -> list[str]:   # noqa: B006 (read only)
        """The words the pack lacks to say every value of `language` and the given texts."""
        have = self.recordings()
        wanted = set(vocabulary(base_language(language))) if base_language(language) in NUMERALS else set()
        wanted |= {word_key(w) for text in texts for w in words(text, language)}
        return sorted(w for w in wanted if w not in have)

    def say(self, text: str, language: str) -> bytes:
        """The text as telephony PCM from the recorded words (SynthesisFailed naming the words lacking)."""
        said = [word_key(w) for w in words(text, language)]
        have = self.recordings()
        lacking = sorted({w for w in said if w not in have})
        if lacking:
            raise SynthesisFailed(f"voice pack {self.folder.name!r} has no recording of: {', '.join(lacking)}")
        if not said:
            raise SynthesisFailed("nothing to say")
        gap = np.zeros(int(GAP * audio.SAMPLE_RATE), dtype="<i2").tobytes()
        return gap.join(audio.to_telephony(have[w]) for w in said)


class VoicePackEngine:
    """The TTS engine `voice-pack`: the voice names a pack under `root`."""

    name = "voice-pack"

    def __init__(self, root: Path | None = None) -> None:
        self.root = Path(root) if root is not None else None

    def is_available(self) -> bool:
        """With a folder of packs configured (it may hold none yet: a pack named then is "not found")."""
        return self.root is not None

    def version(self) -> str:
        """Changes whenever a recording is added, replaced or removed in any node pack (cache keys of packs
        follow `voice_version`, each its own pack's)."""
        assert self.root is not None
        if not self.root.is_dir():
            return "voice-pack 0"
        folders = [self.root, *(p for p in self.root.iterdir() if p.is_dir())]
        return f"voice-pack {max(os.stat(p).st_mtime_ns for p in folders)}"

    def voice_version(self, voice: str) -> str:
        """The version of one pack: prompts made from it are made again after any change of it alone."""
        return f"voice-pack {pack_version(self.pack(voice).folder)}"

    def default_voice(self, language: str) -> str:
        raise UnsupportedLanguage("a voice pack must be named: voice: {engine: voice-pack, voice: NAME}")

    def pack(self, voice: str) -> VoicePack:
        """The pack a voice names: `NAME`, a node pack; `TENANT/NAME` (what a tenant's campaign asks for), the
        tenant's own pack of that name, else the node's."""
        tenant, _, name = voice.rpartition("/")
        if self.root is None or not PACK_NAME.fullmatch(name) or (tenant and not PACK_NAME.fullmatch(tenant)):
            raise EngineUnavailable(t("no voice pack {pack!r}", pack=name))
        folders = ([self.root / TENANTS / tenant / name] if tenant else []) + [self.root / name]
        folder = next((f for f in folders if f.is_dir()), None)
        if folder is None:
            raise EngineUnavailable(t("no voice pack {pack!r} (upload it: PUT /api/voice-packs/{pack})", pack=name))
        return VoicePack(folder)

    def synthesize(self, text: str, language: str, voice: str, rate: float, out_wav: Path) -> None:
        audio.write_wav(out_wav, self.pack(voice).say(text, language))


def qualified(tenant_id: str, pack: str) -> str:
    """The voice a tenant's campaign asks the engine for when it names `pack`: its own pack of that name."""
    return f"{tenant_id}/{pack}"


def pack_version(folder: Path) -> str:
    """Changes whenever a recording of the pack is added, replaced or removed."""
    counted = folder / VERSION_FILE
    if counted.is_file():
        return counted.read_text().strip()
    stamps = [os.stat(folder).st_mtime_ns, *(os.stat(p).st_mtime_ns for p in folder.iterdir())]
    return str(max(stamps))


# -- uploads -----------------------------------------------------------------------------------------------

class PackUploadError(Exception):
    """An upload that adds nothing to the pack: every problem found, by file."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(problems[0].message if problems else t("nothing to add"))
        self.problems = problems


@dataclass(frozen=True)
class Problem:
    """Why one file of an upload cannot be a word of the pack (`file` as named in the archive)."""

    file: str
    message: Message

    def as_dict(self) -> dict[str, object]:
        return {"file": self.file, "message": self.message}


@dataclass(frozen=True)
class Upload:
    """One recording of an upload: the word it says, its file name as sent, its bytes."""

    word: str
    file: str
    data: bytes


MESSAGES = {
    "archive": t("send a zip or tar archive (gzip, bzip2 or xz compressed tar too) of recordings named by their "
                 "word: ваш.wav, гривні.mp3"),
    "files": t("the archive has more than {most} entries", most=MAX_FILES),
    "unpacked": t("the archive unpacks to more than {most} bytes", most=MAX_UNPACKED),
    "big": t("a word's recording is at most {most} bytes", most=MAX_WORD_BYTES),
    "path": t("a path outside the pack (absolute, or with ..)"),
    "link": t("not a plain file (a link, device or other special entry)"),
    "encrypted": t("encrypted: send the recording unencrypted"),
    "suffix": t("not a recording: name it WORD.wav, WORD.mp3 or WORD.ogg"),
    "word": t("the file name is not one word (letters and apostrophes, at most {most})", most=MAX_WORD_LENGTH),
    "twice": lambda word: t("the word {word!r} comes twice in the archive", word=word),
    "not_audio": t("not WAV, MP3 or OGG audio"),
    "undecodable": t("the audio cannot be decoded (send WAV, MP3 or OGG)"),
    "silent": t("the recording is silent"),
    "long": t("a word's recording lasts at most {seconds} s", seconds=int(MAX_WORD_SECONDS)),
    "none": t("the archive holds no recordings"),
    "too_many": t("a pack holds at most {most} words", most=MAX_WORDS),
}


def word_of(filename: str) -> str | None:
    """The word a recording's file name says (`Гривні.WAV` → гривні), or None when it names no word."""
    stem = unicodedata.normalize("NFC", PurePosixPath(filename).stem).strip()
    word = word_key(stem)
    return word if len(word) <= MAX_WORD_LENGTH and _NAME.fullmatch(word) else None


def sniff(data: bytes) -> str | None:
    """The audio container the bytes are in (wav, mp3, ogg), by their first bytes; None for anything else."""
    if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        return "wav"
    if data[:4] == b"OggS":
        return "ogg"
    if data[:3] == b"ID3" or (len(data) > 1 and data[0] == 0xFF and data[1] & 0xE0 == 0xE0):
        return "mp3"
    return None


def unpack(data: bytes) -> list[Upload]:
    """The recordings of an archive (zip, or tar plain or compressed), checked for what it claims and what it
    holds; PackUploadError listing every problem when any file cannot be a word."""
    if data[:4] in (b"PK\x03\x04", b"PK\x05\x06"):
        entries = _zip_entries(data)
    else:
        try:
            archive = tarfile.open(fileobj=io.BytesIO(data), mode="r:*")
        except (tarfile.TarError, EOFError, OSError):
            raise PackUploadError([Problem("", MESSAGES["archive"])]) from None
        entries = _tar_entries(archive)
    uploads: list[Upload] = []
    problems: list[Problem] = []
    seen: dict[str, str] = {}
    try:
        for name, content, problem in entries:
            if problem is not None:
                problems.append(Problem(name, problem))
                continue
            if SKIPPED.search(name):
                continue
            if PurePosixPath(name).suffix.lower() not in SUFFIXES:
                problems.append(Problem(name, MESSAGES["suffix"]))
                continue
            word = word_of(PurePosixPath(name).name)
            if word is None:
                problems.append(Problem(name, MESSAGES["word"]))
            elif word in seen:
                problems.append(Problem(name, MESSAGES["twice"](word)))
            else:
                seen[word] = name
                uploads.append(Upload(word, name, content or b""))
    except PackUploadError as exc:                        # past a limit: nothing more is read
        raise PackUploadError(problems + exc.problems) from None
    if problems:
        raise PackUploadError(problems)
    if not uploads:
        raise PackUploadError([Problem("", MESSAGES["none"])])
    return uploads


Entry = tuple[str, bytes | None, Message | None]      # (name in the archive, its bytes, or why it is refused)


def _zip_entries(data: bytes) -> Iterator[Entry]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError):
        raise PackUploadError([Problem("", MESSAGES["archive"])]) from None
    if len(infos) > MAX_FILES:
        raise PackUploadError([Problem("", MESSAGES["files"])])
    total = 0
    for info in infos:
        name = _zip_name(info)
        if info.is_dir():
            continue
        refused = _path_problem(name)
        if refused is None and info.flag_bits & 0x1:
            refused = MESSAGES["encrypted"]
        if refused is None and (info.external_attr >> 16) & 0o170000 not in (0, 0o100000):
            refused = MESSAGES["link"]                  # a symbolic link or special file stored by a Unix zip
        if refused is not None or SKIPPED.search(name):
            yield name, None, refused
            continue
        try:
            with archive.open(info) as member:
                content = member.read(MAX_WORD_BYTES + 1)   # what it holds, however small it claims to be
        except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError, EOFError):
            yield name, None, MESSAGES["archive"]
            continue
        if len(content) > MAX_WORD_BYTES:
            raise PackUploadError([Problem(name, MESSAGES["big"])])
        total += len(content)
        if total > MAX_UNPACKED:
            raise PackUploadError([Problem(name, MESSAGES["unpacked"])])
        yield name, content, None


def _zip_name(info: zipfile.ZipInfo) -> str:
    """A member's name as its maker wrote it (zip tools that set no UTF-8 flag still write UTF-8 mostly)."""
    if info.flag_bits & 0x800:
        return info.filename
    try:
        return info.filename.encode("cp437").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return info.filename


def _tar_entries(archive: tarfile.TarFile) -> Iterator[Entry]:
    total = count = 0
    try:
        while True:
            member = archive.next()                       # a header at a time: sizes are checked before reading
            if member is None:
                return
            count += 1
            if count > MAX_FILES:
                raise PackUploadError([Problem("", MESSAGES["files"])])
            if member.isdir():
                continue
            refused = _path_problem(member.name) or (None if member.isreg() else MESSAGES["link"])
            if refused is not None or SKIPPED.search(member.name):
                yield member.name, None, refused
                continue
            if member.size > MAX_WORD_BYTES:
                raise PackUploadError([Problem(member.name, MESSAGES["big"])])
            total += member.size
            if total > MAX_UNPACKED:
                raise PackUploadError([Problem(member.name, MESSAGES["unpacked"])])
            extracted = archive.extractfile(member)
            content = extracted.read(MAX_WORD_BYTES + 1) if extracted is not None else b""
            yield member.name, content, None
    except (tarfile.TarError, EOFError, OSError, zlib.error):
        raise PackUploadError([Problem("", MESSAGES["archive"])]) from None


def _path_problem(name: str) -> Message | None:
    path = PurePosixPath(name.replace("\\", "/"))
    if path.is_absolute() or ".." in path.parts or re.match(r"^[A-Za-z]:", name):
        return MESSAGES["path"]
    return None


def convert(upload: Upload) -> bytes:
    """The recording as telephony PCM (decoded as the container its bytes are, at most MAX_WORD_SECONDS);
    PackUploadError when it is not one."""
    fmt = sniff(upload.data)
    if fmt is None:
        raise PackUploadError([Problem(upload.file, MESSAGES["not_audio"])])
    try:
        pcm = audio.to_telephony(upload.data, max_seconds=MAX_WORD_SECONDS, fmt=fmt)
    except audio.TooLong:
        raise PackUploadError([Problem(upload.file, MESSAGES["long"])]) from None
    except audio.SilentAudio:
        raise PackUploadError([Problem(upload.file, MESSAGES["silent"])]) from None
    except audio.AudioError:
        raise PackUploadError([Problem(upload.file, MESSAGES["undecodable"])]) from None
    if len(pcm) > MAX_WORD_SECONDS * audio.SAMPLE_RATE * 2:
        raise PackUploadError([Problem(upload.file, MESSAGES["long"])])
    return pcm


def convert_all(uploads: list[Upload]) -> dict[str, bytes]:
    """Every recording converted (word → PCM); PackUploadError listing each one that is not audio."""
    converted: dict[str, bytes] = {}
    problems: list[Problem] = []
    for upload in uploads:
        try:
            converted[upload.word] = convert(upload)
        except PackUploadError as exc:
            problems += exc.problems
    if problems:
        raise PackUploadError(problems)
    return converted


# -- the packs of tenants ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class PackInfo:
    name: str
    words: list[str]
    version: str

    def as_dict(self) -> dict[str, object]:
        return {"name": self.name, "words": self.words, "version": self.version}


class TenantPacks:
    """The voice packs businesses upload: ROOT/_tenants/TENANT/PACK/WORD.wav, written whole or not at all.
    Plain functions of the file system: call them off the event loop."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def folder(self, tenant_id: str, pack: str) -> Path:
        if not (PACK_NAME.fullmatch(tenant_id) and PACK_NAME.fullmatch(pack)):
            raise ValueError(f"not a tenant and pack name: {tenant_id!r}, {pack!r}")
        return self.root / TENANTS / tenant_id / pack

    def packs(self, tenant_id: str) -> list[PackInfo]:
        base = self.root / TENANTS / tenant_id
        if not PACK_NAME.fullmatch(tenant_id) or not base.is_dir():
            return []
        found = (self.info(tenant_id, p.name) for p in sorted(base.iterdir())
                 if p.is_dir() and PACK_NAME.fullmatch(p.name))
        return [info for info in found if info is not None]

    def info(self, tenant_id: str, pack: str) -> PackInfo | None:
        folder = self.folder(tenant_id, pack)
        if not folder.is_dir():
            return None
        return PackInfo(pack, sorted(VoicePack(folder).recordings()), pack_version(folder))

    def install(self, tenant_id: str, pack: str, recorded: dict[str, bytes]) -> PackInfo:
        """Add or replace these words (PCM) of the pack, made if new; its version moves on once."""
        folder = self.folder(tenant_id, pack)
        have = set(VoicePack(folder).recordings())
        if len(have | set(recorded)) > MAX_WORDS:
            raise PackUploadError([Problem("", MESSAGES["too_many"])])
        folder.mkdir(parents=True, exist_ok=True)
        staged: list[tuple[Path, Path]] = []
        try:
            for word, pcm in recorded.items():
                with tempfile.NamedTemporaryFile(dir=folder, prefix=".upload-", suffix=".wav", delete=False) as out:
                    staged.append((Path(out.name), folder / f"{word}.wav"))
                audio.write_wav(staged[-1][0], pcm)
        except BaseException:
            for temporary, _ in staged:
                temporary.unlink(missing_ok=True)
            raise
        for temporary, target in staged:
            temporary.replace(target)
            for suffix in SUFFIXES:                       # a word is one recording, whatever it came as
                if suffix != ".wav":
                    target.with_suffix(suffix).unlink(missing_ok=True)
        self._bump(folder)
        info = self.info(tenant_id, pack)
        assert info is not None
        return info

    def remove_word(self, tenant_id: str, pack: str, word: str) -> bool:
        folder = self.folder(tenant_id, pack)
        path = VoicePack(folder).recordings().get(word_key(word))
        if path is None:
            return False
        path.unlink()
        self._bump(folder)
        return True

    def remove(self, tenant_id: str, pack: str) -> bool:
        folder = self.folder(tenant_id, pack)
        if not folder.is_dir():
            return False
        shutil.rmtree(folder)
        return True

    def _bump(self, folder: Path) -> None:
        """The pack's version moves on (every prompt made from it is made again)."""
        counted = folder / VERSION_FILE
        number = int(counted.read_text().strip().split("-")[0]) if counted.is_file() else 0
        with tempfile.NamedTemporaryFile("w", dir=folder, prefix=".version-", delete=False) as out:
            out.write(f"{number + 1}-{os.urandom(4).hex()}\n")
        Path(out.name).replace(counted)
