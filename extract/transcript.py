"""Transcripts: speaker turns and a header listing speakers and their firms.

A turn starts a line with a speaker label, in any of the shapes transcripts use::

    Jane Doe: ...
    [00:01:12] Jane Doe: ...        (also 00:01:12, (01:12) and Jane Doe [00:01:12]:)
    Jane Doe (Quarry Capital): ...  (also "(partner, Quarry Capital)")

A timestamp becomes the turn's ``time`` (seconds from the start of the recording).
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass, field
from functools import cached_property

__all__ = [
    "Speaker",
    "Transcript",
    "Turn",
    "clock",
    "handle_to_name",
    "parse_transcript",
    "seconds",
]

_NAME = r"[A-Z][\w.'\u2019-]*(?: [A-Z][\w.'\u2019-]*){0,3}"
_STAMP = r"\d{1,2}:\d{2}(?::\d{2})?(?:[.,]\d{1,3})?"
_LABEL = re.compile(
    rf"^[ \t]*(?:>>[ \t]*)?(?:[\[(]?(?P<ts>{_STAMP})[\])]?[ \t]+)?(?P<name>{_NAME})"
    rf"(?:[ \t]*\((?P<paren>[^()\n:]{{1,80}})\))?(?:[ \t]*[\[(](?P<ts2>{_STAMP})[\])])?"
    r":[ \t]+\S",
    re.M,
)
_NOT_SPEAKERS = frozenset(
    {
        "Speakers",
        "Guests",
        "Note",
        "Source",
        "Update",
        "Editor",
        "Title",
        "Date",
        "Summary",
        "Transcript",
        "Host",
        "Hosts",
        "Telegram",
        "Twitter",
        "Warning",
        "Disclaimer",
        "Q",
        "A",
        "Question",
        "Answer",
        "Participants",
        "Panel",
        "Panelists",
        "Moderator",
        "Link",
    }
)
_ROLE_WORDS = frozenset(
    {
        "partner",
        "investment",
        "manager",
        "trader",
        "analyst",
        "host",
        "founder",
        "co-founder",
        "ceo",
        "cio",
        "cto",
        "head",
        "director",
        "well-known",
        "researcher",
        "editor",
        "reporter",
        "moderator",
        "managing",
        "general",
        "senior",
        "chief",
        "officer",
        "credit",
        "economist",
        "strategist",
        "lawyer",
        "professor",
        "vp",
        "of",
        "at",
    }
)
_HANDLE = re.compile(r"@([A-Za-z][A-Za-z0-9_]{1,30})")


@dataclass(frozen=True)
class Speaker:
    """A speaker named in the header: name, role and firm, with offsets into the text."""

    name: str
    start: int
    end: int
    role: str = ""
    firm: str = ""
    firm_start: int = -1
    firm_end: int = -1
    line_start: int = 0
    line_end: int = 0


@dataclass(frozen=True)
class Turn:
    """One speaker turn: the label's offsets and the span of what was said."""

    label: str
    label_start: int
    label_end: int
    start: int
    end: int
    time: float | None = None  # seconds from the start, where the label gives a timestamp


@dataclass
class Transcript:
    """Speakers from the header and the turns of the body."""

    speakers: list[Speaker] = field(default_factory=list)
    turns: list[Turn] = field(default_factory=list)

    def speaker_for(self, label: str) -> str:
        """Return the full header name that a turn label stands for (else the label)."""
        words = set(label.split())
        for sp in self.speakers:
            if sp.name == label or words <= set(sp.name.split()):
                return sp.name
        return label

    @cached_property
    def _turn_starts(self) -> list[int]:
        return [t.start for t in self.turns]

    def turn_at(self, offset: int) -> Turn | None:
        """Return the turn that contains ``offset``, if any."""
        k = bisect_right(self._turn_starts, offset) - 1
        if k >= 0 and self.turns[k].start <= offset < self.turns[k].end:
            return self.turns[k]
        return None

    def speaker_at(self, offset: int) -> str | None:
        """Return the speaker (full name) whose turn contains ``offset``."""
        turn = self.turn_at(offset)
        return self.speaker_for(turn.label) if turn is not None else None

    def statement_turn(self, text: str, start: int, end: int) -> tuple[Turn, bool] | None:
        """Return the turn that states what ``text[start:end]`` says, and whether it asserts.

        When a span runs over several turns (a question and its answer), the speaker is
        the one who asserts: the turn with most of the span among those whose part does
        not end in a question mark; when every part is a question, the longest part.
        """
        k = max(0, bisect_right(self._turn_starts, start) - 1)
        parts: list[tuple[bool, int, Turn]] = []
        for turn in self.turns[k:]:
            if turn.start >= end:
                break
            lo, hi = max(start, turn.start, turn.label_end), min(end, turn.end)
            if hi <= lo:
                continue
            asserts = not text[lo:hi].rstrip().endswith("?")
            parts.append((asserts, hi - lo, turn))
        if not parts:
            return None
        best = max(parts, key=lambda p: (p[0], p[1]))
        return best[2], best[0]


def handle_to_name(handle: str) -> str:
    """Turn a social handle into a firm name.

    Examples
    --------
    >>> handle_to_name("LD_Capital")
    'LD Capital'
    >>> handle_to_name("OFRfund")
    'OFR'
    """
    name = handle.replace("_", " ").strip()
    m = re.fullmatch(r"([A-Z]{2,})(fund|official|hq|team|global|io|xyz)", name, re.I)
    if m and m.group(1).isupper():
        return m.group(1)
    return name


def _parse_header_line(line: str, offset: int) -> Speaker | None:
    head = line.split("//")[0]
    words = list(re.finditer(r"\S+", head))
    if not words or not words[0].group().strip("-")[:1].isupper():
        return None
    name_words = []
    for w in words:
        token = w.group()
        if token.startswith("@") or token.lower() in _ROLE_WORDS or not token[:1].isupper():
            break
        name_words.append(w)
        if len(name_words) == 3:
            break
    if not name_words:
        return None
    handle = _HANDLE.search(head)
    firm = handle_to_name(handle.group(1)) if handle else ""
    role = " ".join(w.group() for w in words[len(name_words) :] if not w.group().startswith("@"))
    return Speaker(
        name=" ".join(w.group() for w in name_words),
        start=offset + name_words[0].start(),
        end=offset + name_words[-1].end(),
        role=role.strip(),
        firm=firm,
        firm_start=offset + handle.start(1) if handle else -1,
        firm_end=offset + handle.end(1) if handle else -1,
        line_start=offset,
        line_end=offset + len(line),
    )


_LISTED = re.compile(
    r"^\s*[-\u2022*]?\s*([A-Z][\w.'\u2019-]*(?: [A-Z][\w.'\u2019-]*){0,3}),"
    r"\s*([A-Za-z][A-Za-z -]{1,50}),\s*([A-Z][\w&.'\u2019 -]{1,60}?)\s*$"
)


def _parse_listed_line(line: str, offset: int) -> Speaker:
    """Parse a header line ``- Name, role, Firm``."""
    m = _LISTED.match(line)
    assert m is not None
    return Speaker(
        m.group(1),
        offset + m.start(1),
        offset + m.end(1),
        m.group(2).strip(),
        m.group(3),
        offset + m.start(3),
        offset + m.end(3),
        offset,
        offset + len(line),
    )


def _parse_speakers_line(line: str, offset: int) -> list[Speaker]:
    """Parse ``Speakers: Name (role, Firm); Name (role, Firm)``."""
    out = []
    for m in re.finditer(
        r"([A-Z][\w.'\u2019-]*(?: [A-Z][\w.'\u2019-]*){0,3})\s*\(([^()]*)\)", line
    ):
        inside = m.group(2)
        parts = [p.strip() for p in inside.split(",")]
        role = parts[0] if parts else ""
        firm = parts[-1] if len(parts) > 1 else ""
        firm_start = firm_end = -1
        if firm:
            rel = inside.rfind(firm)
            firm_start = offset + m.start(2) + rel
            firm_end = firm_start + len(firm)
        out.append(
            Speaker(
                m.group(1),
                offset + m.start(1),
                offset + m.end(1),
                role,
                firm,
                firm_start,
                firm_end,
                offset,
                offset + len(line),
            )
        )
    return out


def seconds(stamp: str) -> float:
    """Return the seconds of a timestamp ``[h:]mm:ss[.fff]``.

    Examples
    --------
    >>> seconds("00:01:12"), seconds("2:05"), seconds("1:00:00,500")
    (72.0, 125.0, 3600.5)
    """
    main, _, frac = stamp.replace(",", ".").partition(".")
    total = 0
    for part in main.split(":"):
        total = total * 60 + int(part)
    return total + (float("0." + frac) if frac else 0.0)


def clock(secs: float) -> str:
    """Return ``hh:mm:ss`` for a number of seconds.

    Examples
    --------
    >>> clock(3723.9)
    '01:02:03'
    """
    whole = int(secs)
    return f"{whole // 3600:02d}:{whole // 60 % 60:02d}:{whole % 60:02d}"


_HEADING_WORDS = frozenset(
    """breaking news update updates bottom line key takeaways takeaway background context
    summary editor note notes correction read more related see also why what how when where
    who the this that our my your their his her its and or but in on at for to of by with
    from about part chapter section step figure table question answer lesson verdict rating
    price pros cons tip warning""".split()
)


def _is_turn_name(name: str) -> bool:
    """Whether a label of a short transcript looks like a person's name, not a heading."""
    words = name.split()
    return len(words) >= 2 and not any(w.lower().strip(".") in _HEADING_WORDS for w in words)


def _label_speaker(m: re.Match[str]) -> Speaker | None:
    """Return the speaker of a label that names a firm in parentheses (``Jane Doe (Firm):``)."""
    paren = m.group("paren")
    if not paren:
        return None
    parts = [p.strip() for p in paren.split(",")]
    firm = parts[-1]
    if not firm[:1].isupper():
        return None
    rel = paren.rfind(firm)
    firm_start = m.start("paren") + rel
    # the line range (read as header evidence) is the parenthesis, so the turn's first
    # sentence, which starts at the label, is still read for relations
    return Speaker(
        name=m.group("name"),
        start=m.start("name"),
        end=m.end("name"),
        role=", ".join(parts[:-1]),
        firm=firm,
        firm_start=firm_start,
        firm_end=firm_start + len(firm),
        line_start=m.start("paren") - 1,
        line_end=m.end("paren") + 1,
    )


def _header(text: str) -> list[Speaker]:
    """Return the speakers listed before the first turn."""
    speakers: list[Speaker] = []
    offset = 0
    for line in text.split("\n"):
        stripped = line.strip()
        if re.match(r"(Speakers|Guests|Participants|Panel(ists)?|With)\s*:", stripped):
            speakers.extend(_parse_speakers_line(line, offset))
        elif _LISTED.match(line):
            speakers.append(_parse_listed_line(line, offset))
        elif "@" in line and "://" not in line:
            sp = _parse_header_line(line, offset)
            if sp:
                speakers.append(sp)
        offset += len(line) + 1
    return speakers


def _in_header(name: str, speakers: list[Speaker]) -> bool:
    words = set(name.split())
    return any(name == s.name or words <= set(s.name.split()) for s in speakers)


def _turn_marks(labels: list[re.Match[str]], speakers: list[Speaker]) -> list[re.Match[str]]:
    """Return the labels that open turns, or none when the text is ordinary prose.

    A plain ``Name:`` label counts when the name speaks twice or is listed in the header;
    a label with a timestamp or a firm in parentheses counts on its own. A plain
    transcript needs three turns by two speakers, unless it has timestamps, a header of
    speakers, or two turns by two people named in full.
    """
    counts: dict[str, int] = {}
    for m in labels:
        counts[m.group("name")] = counts.get(m.group("name"), 0) + 1

    def strong(m: re.Match[str]) -> bool:
        return bool(m.group("ts") or m.group("ts2") or m.group("paren"))

    marks = [
        m
        for m in labels
        if counts[m.group("name")] >= 2 or strong(m) or _in_header(m.group("name"), speakers)
    ]
    names = {m.group("name") for m in marks}
    if len(names) >= 2 and len(marks) >= 3:
        return marks
    if marks and (
        all(strong(m) for m in marks) or any(_in_header(m.group("name"), speakers) for m in marks)
    ):
        return marks
    plain = {m.group("name") for m in labels}
    if len(labels) == 2 and len(plain) == 2 and all(_is_turn_name(n) for n in plain):
        return labels
    return []


def parse_transcript(text: str) -> Transcript | None:
    r"""Return the speakers and turns of a transcript, or ``None`` for ordinary prose.

    Examples
    --------
    >>> t = parse_transcript("Ann Lee: Hi.\nBo: Yes.\nAnn Lee: FTX lent.\nBo: No.\n")
    >>> [turn.label for turn in t.turns]
    ['Ann Lee', 'Bo', 'Ann Lee', 'Bo']
    >>> t = parse_transcript("[00:01:12] Ann Lee (Quarry Capital): FTX lent.\n")
    >>> [(turn.label, turn.time) for turn in t.turns], t.speakers[0].firm
    ([('Ann Lee', 72.0)], 'Quarry Capital')
    """
    labels = [m for m in _LABEL.finditer(text) if m.group("name") not in _NOT_SPEAKERS]
    if not labels:
        return None
    transcript = Transcript(speakers=_header(text[: labels[0].start()]))
    marks = _turn_marks(labels, transcript.speakers)
    if not marks:
        return None
    for i, m in enumerate(marks):
        end = marks[i + 1].start() if i + 1 < len(marks) else len(text)
        stamp = m.group("ts") or m.group("ts2")
        start = m.start() + len(m.group()) - len(m.group().lstrip())
        transcript.turns.append(
            Turn(
                m.group("name"),
                m.start("name"),
                m.end("name"),
                start,
                end,
                seconds(stamp) if stamp else None,
            )
        )
        sp = _label_speaker(m)
        if sp is not None and not _in_header(sp.name, transcript.speakers):
            transcript.speakers.append(sp)
    return transcript
