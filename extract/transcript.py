"""Transcripts: speaker turns ("Name: ...") and a header listing speakers and their firms."""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass, field
from functools import cached_property

__all__ = ["Speaker", "Transcript", "Turn", "handle_to_name", "parse_transcript"]

_LABEL = re.compile(r"^([A-Z][\w.'\u2019-]*(?: [A-Z][\w.'\u2019-]*){0,3}):[ \t]+\S", re.M)
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

    def speaker_at(self, offset: int) -> str | None:
        """Return the speaker (full name) whose turn contains ``offset``."""
        k = bisect_right(self._turn_starts, offset) - 1
        if k >= 0 and self.turns[k].start <= offset < self.turns[k].end:
            return self.speaker_for(self.turns[k].label)
        return None


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


def parse_transcript(text: str) -> Transcript | None:
    r"""Return the speakers and turns of a transcript, or ``None`` for ordinary prose.

    Examples
    --------
    >>> t = parse_transcript("Ann Lee: Hi.\nBo: Yes.\nAnn Lee: FTX lent.\nBo: No.\n")
    >>> [turn.label for turn in t.turns]
    ['Ann Lee', 'Bo', 'Ann Lee', 'Bo']
    """
    labels = [m for m in _LABEL.finditer(text) if m.group(1) not in _NOT_SPEAKERS]
    counts: dict[str, int] = {}
    for m in labels:
        counts[m.group(1)] = counts.get(m.group(1), 0) + 1
    if not labels:
        return None
    transcript = Transcript()
    first_turn = labels[0].start()
    offset = 0
    for line in text[:first_turn].split("\n"):
        stripped = line.strip()
        if re.match(r"(Speakers|Guests|Participants|Panel(ists)?)\s*:", stripped):
            transcript.speakers.extend(_parse_speakers_line(line, offset))
        elif _LISTED.match(line):
            transcript.speakers.append(_parse_listed_line(line, offset))
        elif "@" in line and "://" not in line:
            sp = _parse_header_line(line, offset)
            if sp:
                transcript.speakers.append(sp)
        offset += len(line) + 1
    turn_marks = [
        m
        for m in labels
        if counts[m.group(1)] >= 2
        or any(
            m.group(1) == s.name or set(m.group(1).split()) <= set(s.name.split())
            for s in transcript.speakers
        )
    ]
    if len({m.group(1) for m in turn_marks}) < 2 or len(turn_marks) < 3:
        return None
    for i, m in enumerate(turn_marks):
        end = turn_marks[i + 1].start() if i + 1 < len(turn_marks) else len(text)
        line_end = text.find("\n", m.start())
        next_label = turn_marks[i + 1].start() if i + 1 < len(turn_marks) else len(text)
        # a turn runs over following lines until the next label
        end = min(end, next_label) if line_end != -1 else end
        transcript.turns.append(Turn(m.group(1), m.start(1), m.end(1), m.start(), end))
    return transcript
