"""Written values as the words a caller should hear, in Ukrainian, Russian and English: numbers,
amounts of hryvnias and kopiykas with the nouns agreeing (1 гривня, 2 гривні, 5 гривень; одна/один),
dates, times and codes (digit by digit).

`words(text, language)` is the whole text as a list of words: TTS engines are given them joined
(`verbalize`), and a voice pack (`voice_pack.py`) plays each word from its own recording, as Asterisk
says numbers from sound files. `vocabulary(language)` is every word the values can need, which a voice
pack must hold.

Recognised in the text: amounts `125.50 грн`, `125,50 UAH`, `₴125`; dates `2026-12-07` and
`07.12.2026`; times `14:30`; codes: a number that starts with 0 or has more than six digits, or digits
in groups (`0 67 123`, `A-1029`: each digit said); other whole numbers and decimals (`12.5`).
Languages other than uk, ru and en keep their text as written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

VERBALIZE_VERSION = 1            # part of every prompt's cache key: raise it when the words said change

# -- the words of each language ----------------------------------------------------------------------


@dataclass(frozen=True)
class Numerals:
    units: tuple[str, ...]               # 0..9, masculine
    feminine: dict[int, str]             # 1, 2 when the counted noun is feminine
    teens: tuple[str, ...]               # 10..19
    tens: tuple[str, ...]                # 20, 30, ... 90
    hundreds: tuple[str, ...]            # 100, 200, ... 900
    scales: tuple[tuple[str, str, str, bool], ...]   # 10^3, 10^6, 10^9: (one, few, many, feminine)
    point: str                           # the decimal separator said


UK = Numerals(
    units=("нуль", "один", "два", "три", "чотири", "п'ять", "шість", "сім", "вісім", "дев'ять"),
    feminine={1: "одна", 2: "дві"},
    teens=("десять", "одинадцять", "дванадцять", "тринадцять", "чотирнадцять", "п'ятнадцять", "шістнадцять",
           "сімнадцять", "вісімнадцять", "дев'ятнадцять"),
    tens=("двадцять", "тридцять", "сорок", "п'ятдесят", "шістдесят", "сімдесят", "вісімдесят", "дев'яносто"),
    hundreds=("сто", "двісті", "триста", "чотириста", "п'ятсот", "шістсот", "сімсот", "вісімсот", "дев'ятсот"),
    scales=(("тисяча", "тисячі", "тисяч", True), ("мільйон", "мільйони", "мільйонів", False),
            ("мільярд", "мільярди", "мільярдів", False)),
    point="кома",
)
RU = Numerals(
    units=("ноль", "один", "два", "три", "четыре", "пять", "шесть", "семь", "восемь", "девять"),
    feminine={1: "одна", 2: "две"},
    teens=("десять", "одиннадцать", "двенадцать", "тринадцать", "четырнадцать", "пятнадцать", "шестнадцать",
           "семнадцать", "восемнадцать", "девятнадцать"),
    tens=("двадцать", "тридцать", "сорок", "пятьдесят", "шестьдесят", "семьдесят", "восемьдесят", "девяносто"),
    hundreds=("сто", "двести", "триста", "четыреста", "пятьсот", "шестьсот", "семьсот", "восемьсот", "девятьсот"),
    scales=(("тысяча", "тысячи", "тысяч", True), ("миллион", "миллиона", "миллионов", False),
            ("миллиард", "миллиарда", "миллиардов", False)),
    point="запятая",
)
EN = Numerals(
    units=("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"),
    feminine={},
    teens=("ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen",
           "nineteen"),
    tens=("twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"),
    hundreds=tuple(f"{u} hundred" for u in ("one", "two", "three", "four", "five", "six", "seven", "eight", "nine")),
    scales=(("thousand", "thousand", "thousand", False), ("million", "million", "million", False),
            ("billion", "billion", "billion", False)),
    point="point",
)
NUMERALS = {"uk": UK, "ru": RU, "en": EN}

# nouns counted: (one, few, many, feminine)
NOUNS: dict[str, dict[str, tuple[str, str, str, bool]]] = {
    "uk": {"hryvnia": ("гривня", "гривні", "гривень", True), "kopiyka": ("копійка", "копійки", "копійок", True),
           "hour": ("година", "години", "годин", True), "minute": ("хвилина", "хвилини", "хвилин", True)},
    "ru": {"hryvnia": ("гривна", "гривны", "гривен", True), "kopiyka": ("копейка", "копейки", "копеек", True),
           "hour": ("час", "часа", "часов", False), "minute": ("минута", "минуты", "минут", True)},
    "en": {"hryvnia": ("hryvnia", "hryvnias", "hryvnias", False), "kopiyka": ("kopiyka", "kopiykas", "kopiykas", False),
           "hour": ("", "", "", False), "minute": ("", "", "", False)},
}
MONTHS = {
    "uk": ("січня", "лютого", "березня", "квітня", "травня", "червня", "липня", "серпня", "вересня", "жовтня",
           "листопада", "грудня"),
    "ru": ("января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа", "сентября", "октября",
           "ноября", "декабря"),
    "en": ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December"),
}
# ordinals: the day (neuter nominative in uk/ru: "сьоме грудня") and the year's last word (genitive:
# "дві тисячі двадцять шостого року"); index by value: 1..19, then tens 20..90 at 20 + k, hundreds, 1000
_ORD_UK_DAY = ("", "перше", "друге", "третє", "четверте", "п'яте", "шосте", "сьоме", "восьме", "дев'яте", "десяте",
               "одинадцяте", "дванадцяте", "тринадцяте", "чотирнадцяте", "п'ятнадцяте", "шістнадцяте",
               "сімнадцяте", "вісімнадцяте", "дев'ятнадцяте")
_ORD_RU_DAY = ("", "первое", "второе", "третье", "четвёртое", "пятое", "шестое", "седьмое", "восьмое", "девятое",
               "десятое", "одиннадцатое", "двенадцатое", "тринадцатое", "четырнадцатое", "пятнадцатое",
               "шестнадцатое", "семнадцатое", "восемнадцатое", "девятнадцатое")
_ORD_EN = ("", "first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth",
           "eleventh", "twelfth", "thirteenth", "fourteenth", "fifteenth", "sixteenth", "seventeenth", "eighteenth",
           "nineteenth")
ORDINAL_DAY = {"uk": (_ORD_UK_DAY, {20: "двадцяте", 30: "тридцяте"}),
               "ru": (_ORD_RU_DAY, {20: "двадцатое", 30: "тридцатое"}),
               "en": (_ORD_EN, {20: "twentieth", 30: "thirtieth"})}
ORDINAL_YEAR = {  # genitive, for the last non-zero part of a year
    "uk": {**{i: w[:-1] + ("ього" if w.endswith("тє") else "ого") for i, w in enumerate(_ORD_UK_DAY) if i},
           20: "двадцятого", 30: "тридцятого", 40: "сорокового", 50: "п'ятдесятого", 60: "шістдесятого",
           70: "сімдесятого", 80: "вісімдесятого", 90: "дев'яностого", 100: "сотого", 1000: "тисячного"},
    "ru": {**{i: w[:-1] + "его" if w.endswith("ье") else w[:-2] + "ого" for i, w in enumerate(_ORD_RU_DAY) if i},
           20: "двадцатого", 30: "тридцатого", 40: "сорокового", 50: "пятидесятого", 60: "шестидесятого",
           70: "семидесятого", 80: "восьмидесятого", 90: "девяностого", 100: "сотого", 1000: "тысячного"},
}
YEAR = {"uk": "року", "ru": "года", "en": ""}
EN_TIME = {"oclock": "o'clock", "oh": "oh"}


def _plural(n: int, forms: tuple[str, str, str, bool]) -> str:
    """The form of a noun after the number n (one / few / many), as Ukrainian and Russian agree it."""
    if 11 <= n % 100 <= 14:
        return forms[2]
    return forms[0] if n % 10 == 1 else forms[1] if 2 <= n % 10 <= 4 else forms[2]


def _below_thousand(n: int, lang: Numerals, feminine: bool) -> list[str]:
    out: list[str] = []
    if n >= 100:
        out += lang.hundreds[n // 100 - 1].split()
        n %= 100
    if n >= 20:
        out.append(lang.tens[n // 10 - 2])
        n %= 10
    if 10 <= n <= 19:
        out.append(lang.teens[n - 10])
    elif n:
        out.append(lang.feminine.get(n, lang.units[n]) if feminine else lang.units[n])
    return out


def cardinal(n: int, language: str, feminine: bool = False) -> list[str]:
    """A whole number in words; `feminine`: agreeing with a feminine noun (одна гривня, дві тисячі)."""
    lang = NUMERALS[language]
    if n == 0:
        return [lang.units[0]]
    if n < 0:
        return ["мінус" if language == "uk" else "минус" if language == "ru" else "minus"] + cardinal(-n, language, feminine)
    out: list[str] = []
    groups = []
    while n:
        groups.append(n % 1000)
        n //= 1000
    if len(groups) > len(lang.scales) + 1:
        raise ValueError("number too large to say")
    for power in range(len(groups) - 1, -1, -1):
        group = groups[power]
        if not group:
            continue
        if power == 0:
            out += _below_thousand(group, lang, feminine)
            continue
        scale = lang.scales[power - 1]
        out += _below_thousand(group, lang, scale[3])
        out.append(_plural(group, scale) if language != "en" else scale[0])
    return out


def digits(text: str, language: str) -> list[str]:
    """Every digit of a code said on its own (letters and signs are left out)."""
    return [NUMERALS[language].units[int(d)] for d in text if d.isdigit()]


def money(hryvnias: int, kopiykas: int, language: str) -> list[str]:
    """An amount: "двадцять одна гривня п'ятдесят копійок"."""
    nouns = NOUNS[language]
    out = cardinal(hryvnias, language, nouns["hryvnia"][3]) + [_plural_en(hryvnias, nouns["hryvnia"], language)]
    if kopiykas:
        out += cardinal(kopiykas, language, nouns["kopiyka"][3]) + [_plural_en(kopiykas, nouns["kopiyka"], language)]
    return out


def _plural_en(n: int, forms: tuple[str, str, str, bool], language: str) -> str:
    return (forms[0] if n == 1 else forms[1]) if language == "en" else _plural(n, forms)


def date(year: int, month: int, day: int, language: str) -> list[str]:
    """"сьоме грудня дві тисячі двадцять шостого року", "December seventh, twenty twenty-six"."""
    if not (1 <= month <= 12 and 1 <= day <= 31):
        raise ValueError("not a date")
    ordinals, tens = ORDINAL_DAY[language]
    day_words = [ordinals[day]] if day < 20 else [tens[day - day % 10]] if day % 10 == 0 else \
        cardinal(day - day % 10, language) + [ordinals[day % 10]]
    if language == "en":
        year_words = cardinal(year // 100, "en") + (["hundred"] if year % 100 == 0 else
                                                   (["oh"] if year % 100 < 10 else []) + cardinal(year % 100, "en"))
        if 2000 <= year < 2010:
            year_words = cardinal(year, "en")
        return [MONTHS["en"][month - 1]] + day_words + year_words
    return day_words + [MONTHS[language][month - 1]] + _year(year, language) + [YEAR[language]]


def _year(year: int, language: str) -> list[str]:
    """A year in the genitive ordinal: the number said up to its last non-zero part, which is ordinal."""
    table = ORDINAL_YEAR[language]
    teen = year % 100 if 10 <= year % 100 <= 19 else 0
    for part in (teen, year % 10, year % 100 - year % 10, year % 1000 - year % 100):
        if part:
            break
    else:
        part = year
    if part >= 100 and part not in table:
        part = year % 1000
    if part not in table:            # 200, 300, ... 2000: rare in callers' values, said as a cardinal
        return cardinal(year, language)
    return (cardinal(year - part, language) if year - part else []) + [table[part]]


def clock(hours: int, minutes: int, language: str) -> list[str]:
    """"чотирнадцять годин тридцять хвилин", "fourteen thirty", "ten o'clock"."""
    if not (0 <= hours <= 24 and 0 <= minutes <= 59):
        raise ValueError("not a time")
    if language == "en":
        if minutes == 0:
            return cardinal(hours, "en") + [EN_TIME["oclock"]]
        return cardinal(hours, "en") + ([EN_TIME["oh"]] if minutes < 10 else []) + cardinal(minutes, "en")
    nouns = NOUNS[language]
    out = cardinal(hours, language, nouns["hour"][3]) + [_plural(hours, nouns["hour"])]
    if minutes:
        out += cardinal(minutes, language, nouns["minute"][3]) + [_plural(minutes, nouns["minute"])]
    return out


# -- reading a text ------------------------------------------------------------------------------------

_PATTERNS = [
    ("money", re.compile(r"(?:₴\s*(\d{1,3}(?: \d{3})+|\d+)(?:[.,](\d{1,2}))?(?!\d))|(?:(\d{1,3}(?: \d{3})+|\d+)"
                         r"(?:[.,](\d{1,2}))?\s*(?:UAH|грн\.?|гривень|гривні|гривня|гривен|гривны|гривна|hryvnias?)(?!\w))",
                         re.I)),
    ("date", re.compile(r"(?<![\d.])(?:(\d{4})-(\d{2})-(\d{2})|(\d{1,2})\.(\d{1,2})\.(\d{4}))(?![\d.])")),
    ("time", re.compile(r"(?<![\d:])(\d{1,2}):(\d{2})(?![\d:])")),
    ("code", re.compile(r"(?<![\w.,])(?:[A-Za-z]+-?\d+(?:[- ]\d+)*|\d+(?:[- ]\d+)+|0\d+|\d{7,})(?!\w|[.,]\d)")),
    ("decimal", re.compile(r"(?<![\d.,])(\d+)[.,](\d+)(?!\d|[.,]\d)")),
    ("number", re.compile(r"(?<![\d.,])-?\d+(?!\d|[.,]\d)")),
]
_WORD = re.compile(r"[^\W\d_]+(?:['’ʼ-][^\W\d_]+)*")


def _value_words(kind: str, found: re.Match, language: str) -> list[str]:
    text = found.group(0)
    if kind == "money":
        whole = found.group(1) or found.group(3)
        cents = found.group(2) or found.group(4) or "0"
        return money(int(whole.replace(" ", "")), int(cents.ljust(2, "0")), language)
    if kind == "date":
        if found.group(1):
            year, month, day = int(found.group(1)), int(found.group(2)), int(found.group(3))
        else:
            day, month, year = int(found.group(4)), int(found.group(5)), int(found.group(6))
        return date(year, month, day, language)
    if kind == "time":
        return clock(int(found.group(1)), int(found.group(2)), language)
    if kind == "code":
        return digits(text, language)
    if kind == "decimal":
        return cardinal(int(found.group(1)), language) + [NUMERALS[language].point] + digits(found.group(2), language)
    return cardinal(int(text), language)


def _values(text: str, language: str) -> list[tuple[int, int, list[str]]]:
    """(start, end, words) of each value in the text, in order."""
    out = []
    position = 0
    while position < len(text):
        best = None
        for kind, pattern in _PATTERNS:
            found = pattern.search(text, position)
            if found and (best is None or found.start() < best[1].start()):
                best = (kind, found)
        if best is None:
            break
        try:
            said = _value_words(best[0], best[1], language)
        except ValueError:                 # 31.13.2026 and the like: said digit by digit
            said = digits(best[1].group(0), language)
        out.append((best[1].start(), best[1].end(), said))
        position = best[1].end()
    return out


def words(text: str, language: str) -> list[str]:
    """The text as the words to say, values written out (module docstring); punctuation dropped."""
    language = language.split("-")[0].lower()
    if language not in NUMERALS:
        return _WORD.findall(text)
    out: list[str] = []
    position = 0
    for start, end, said in _values(text, language):
        out += _WORD.findall(text[position:start]) + said
        position = end
    return out + _WORD.findall(text[position:])


def verbalize(text: str, language: str) -> str:
    """The text for a TTS engine: each value replaced by its words, everything else as written."""
    language = language.split("-")[0].lower()
    if language not in NUMERALS:
        return text
    out, position = [], 0
    for start, end, said in _values(text, language):
        out += [text[position:start], " ".join(said)]
        position = end
    return "".join(out + [text[position:]])


def vocabulary(language: str) -> list[str]:
    """Every word `words` may need to say a value in `language` (what a voice pack must hold)."""
    lang = NUMERALS[language]
    found: set[str] = set(lang.units) | set(lang.feminine.values()) | set(lang.teens) | set(lang.tens) | {lang.point}
    found |= {w for h in lang.hundreds for w in h.split()}
    found |= {form for scale in lang.scales for form in scale[:3]}
    found |= {form for noun in NOUNS[language].values() for form in noun[:3] if form}
    found |= set(MONTHS[language])
    ordinals, tens = ORDINAL_DAY[language]
    found |= {w for w in ordinals if w} | set(tens.values())
    if language in ORDINAL_YEAR:
        found |= set(ORDINAL_YEAR[language].values()) | {YEAR[language]}
    else:
        found |= set(EN_TIME.values())
    return sorted(found)
