#!/usr/bin/env python3
"""Regenerate the demo PDFs from their prose sources.

    python3 assets/demo/make_pdfs.py        (requires: pip install fpdf2)

Each docs_src/<topic>/<name>.txt becomes docs/<topic>/<name>.pdf.
The first line of the source is the title; paragraphs are separated by blank
lines; short lines without final punctuation are rendered as sub-headings.
Text is written with the built-in Helvetica font, so it stays real,
extractable text (sources are kept ASCII / Latin-1 for that reason).
"""
import datetime as dt
import os

from fpdf import FPDF

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.join(HERE, "docs_src")
DST = os.path.join(HERE, "docs")
FIXED_DATE = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)


def is_heading(line):
    return len(line) < 60 and not line.endswith((".", ":", "?", "!", ","))


def render(src_path, dst_path):
    with open(src_path, encoding="utf-8") as f:
        text = f.read().strip()
    lines = text.split("\n")
    title, body = lines[0].strip(), "\n".join(lines[1:]).strip()

    pdf = FPDF(format="A4")
    pdf.set_creation_date(FIXED_DATE)
    pdf.set_title(title)
    pdf.set_author("Lakebook demo")
    pdf.set_margins(20, 20, 20)
    pdf.set_auto_page_break(True, margin=20)
    pdf.add_page()

    pdf.set_font("Helvetica", "B", 16)
    pdf.multi_cell(0, 8, title, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)

    for para in body.split("\n\n"):
        para = para.strip()
        if not para:
            continue
        if "\n" not in para and is_heading(para):
            pdf.ln(2)
            pdf.set_font("Helvetica", "B", 12)
            pdf.multi_cell(0, 6, para, new_x="LMARGIN", new_y="NEXT")
            pdf.ln(1)
            continue
        pdf.set_font("Helvetica", "", 11)
        for line in para.split("\n"):  # keep list-like lines on their own rows
            pdf.multi_cell(0, 5.5, line.strip(), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(3)

    pdf.output(dst_path)
    return pdf.page_no()


def main():
    for topic in sorted(os.listdir(SRC)):
        tdir = os.path.join(SRC, topic)
        if not os.path.isdir(tdir):
            continue
        os.makedirs(os.path.join(DST, topic), exist_ok=True)
        for name in sorted(os.listdir(tdir)):
            if not name.endswith(".txt"):
                continue
            dst = os.path.join(DST, topic, name[:-4] + ".pdf")
            pages = render(os.path.join(tdir, name), dst)
            print(f"{os.path.relpath(dst, HERE)}: {pages} page(s)")


if __name__ == "__main__":
    main()
