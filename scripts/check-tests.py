#!/usr/bin/env python3
"""A Python test file run as a script (as ctest runs them) executes only what is defined before its
`if __name__ == "__main__":` block: unittest.main() exits there. Two files once had test classes
after it, which ctest never ran. This refuses any class or function defined after that block."""
import pathlib, re, sys

root = pathlib.Path(__file__).resolve().parent.parent
problems = []
for path in sorted(root.glob("tests/**/*.py")):
    if "node_modules" in path.parts:
        continue
    lines = path.read_text().splitlines()
    mains = [i for i, line in enumerate(lines) if line.startswith("if __name__")]
    if not mains:
        continue
    for i, line in enumerate(lines[mains[-1] + 1:], start=mains[-1] + 2):
        if re.match(r"(class|def|async def) ", line):
            problems.append(f"{path.relative_to(root)}:{i}: '{line.strip()}' after the __main__ block")
for p in problems:
    print(p)
print(f"tests: {len(problems)} problem(s)")
sys.exit(1 if problems else 0)
