"""Render a value pack as a PDF with fpdf2: text, tables and before/after bars drawn as shapes.

The bars are fpdf's own rectangles, so no browser or image renderer is needed. DejaVu Sans is
used where the system has it (any script); otherwise the built-in Helvetica, which holds Latin-1
only, gets the text with typographic characters folded to their plain forms.
"""

import unicodedata
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from core.reporting.value_pack_render import (
    AUDIENCE_WORDS,
    figure,
    upsell_rows,
    win_rows,
)
from core.reporting.value_pack_schemas import PackWin, ValuePack

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
FOLDS = str.maketrans(
    {
        "—": "-",
        "–": "-",
        "“": '"',
        "”": '"',
        "‘": "'",
        "’": "'",
        "…": "...",
        "→": "->",
        "≤": "<=",
        "≥": ">=",
        "×": "x",
        "•": "-",
        "\u00a0": " ",
    }
)
BEFORE_RGB, AFTER_RGB = (154, 165, 177), (47, 125, 91)
BAR_WIDTH_MM = 110


def latin1(text: str) -> str:
    """Fold text to what the built-in fonts can draw: plain quotes and dashes, '?' for the rest."""
    folded = unicodedata.normalize("NFKC", str(text)).translate(FOLDS)
    return folded.encode("latin-1", "replace").decode("latin-1")


class _Pdf(FPDF):
    def __init__(self, font_dir: Path | None):
        super().__init__(format="A4")
        self.set_auto_page_break(auto=True, margin=15)
        regular = font_dir / "DejaVuSans.ttf" if font_dir else None
        bold = font_dir / "DejaVuSans-Bold.ttf" if font_dir else None
        if regular and bold and regular.exists() and bold.exists():
            self.add_font("DejaVu", "", str(regular))
            self.add_font("DejaVu", "B", str(bold))
            self.family, self.fold = "DejaVu", False
        else:
            self.family, self.fold = "helvetica", True

    def text_of(self, text: object) -> str:
        return latin1(str(text)) if self.fold else str(text)

    def footer(self):
        self.set_y(-12)
        self.set_font(self.family, size=8)
        self.cell(0, 8, f"Page {self.page_no()}", align="C")

    def heading(self, text: str, size: int) -> None:
        self.set_font(self.family, "B", size)
        self.multi_cell(0, size * 0.5, self.text_of(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.ln(1)

    def para(self, text: str, size: int = 10) -> None:
        self.set_font(self.family, size=size)
        self.multi_cell(0, 5, self.text_of(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.ln(1)

    def bullets(self, items: list[str]) -> None:
        for item in items:
            self.para(f"- {item}")

    def grid(self, rows: list[list[str]]) -> None:
        self.set_font(self.family, size=8)
        with self.table(first_row_as_headings=True, line_height=4.5) as table:
            for row in rows:
                cells = table.row()
                for value in row:
                    cells.cell(self.text_of(value))
        self.ln(3)

    def bars(self, win: PackWin) -> None:
        """Draw the before and after bars of one win, each with its value."""
        if not win.has_before_after:
            return
        top = max(abs(float(win.baseline)), abs(float(win.achieved))) or 1.0
        if self.will_page_break(16):
            self.add_page()
        self.set_font(self.family, size=9)
        for name, value, rgb in (
            ("Before", win.baseline, BEFORE_RGB),
            ("After", win.achieved, AFTER_RGB),
        ):
            y = self.get_y()
            width = max(0.5, BAR_WIDTH_MM * abs(float(value)) / top)
            self.set_xy(self.l_margin, y)
            self.cell(18, 6, name)
            self.set_fill_color(*rgb)
            self.rect(self.l_margin + 18, y + 1, width, 4.5, style="F")
            self.set_xy(self.l_margin + 20 + width, y)
            self.cell(40, 6, self.text_of(figure(win, value)), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.ln(2)


def pdf(pack: ValuePack, *, font_dir: Path | None = FONT_DIR) -> bytes:
    """Return the pack as PDF bytes (`font_dir` None: the built-in fonts only)."""
    doc = _Pdf(font_dir)
    doc.set_title(doc.text_of(pack.title))
    doc.add_page()
    doc.heading(pack.title, 16)
    doc.para(AUDIENCE_WORDS[pack.audience], 9)
    doc.heading("Summary", 13)
    doc.bullets(pack.summary.headlines)
    if pack.wins:
        doc.heading("Wins: before and after", 13)
        doc.grid(win_rows(pack))
        for w in pack.wins:
            doc.heading(w.title, 11)
            doc.para(w.result)
            doc.bars(w)
            doc.bullets([w.baseline_note, f"Verified: {w.verification}"])
    if pack.roi:
        doc.heading("Return on investment", 13)
        for line in pack.roi:
            doc.para(f"{line.source}: {line.text}")
            doc.bullets(line.basis)
    if pack.upsells:
        doc.heading("Expansions and their outcomes", 13)
        doc.grid(upsell_rows(pack))
        for u in pack.upsells:
            if u.criteria:
                doc.heading(u.name, 11)
                doc.bullets([c.text for c in u.criteria])
    for section in pack.sections:
        doc.heading(section.heading, 13)
        doc.bullets(section.lines)
    return bytes(doc.output())
