"""Writes one benchmark's section into docs/BENCHMARKS.md, between its
<!-- NAME:begin --> and <!-- NAME:end --> markers (appended when they are not there yet)."""
import os, re

DOC = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "docs", "BENCHMARKS.md")


def write_section(name, section):
    text = open(DOC).read()
    begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
    block = f"{begin}\n{section}{end}"
    if begin in text:
        text = re.sub(re.escape(begin) + ".*?" + re.escape(end), lambda m: block, text, flags=re.S)
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    open(DOC, "w").write(text)
