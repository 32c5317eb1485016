"""Regenerate MODEL.md's head table from the shipped head profile (model/heads.json).

    trainer/.venv/bin/python trainer/heads_table.py            # rewrite the table in model/MODEL.md
    trainer/.venv/bin/python trainer/heads_table.py --check    # fail if MODEL.md's table is stale

The table sits between the markers <!-- heads:begin --> and <!-- heads:end -->; nothing else in
MODEL.md is touched. heads.json is written by trainer/export.py from measurements on held-out text.
"""

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BEGIN, END = "<!-- heads:begin -->", "<!-- heads:end -->"


def table(profile):
    aux = profile.get("trained_by_auxiliary_loss")
    lines = [
        "| head | name | prev | self | start | duplicate | induction | mean distance |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for h in profile["heads"]:
        trained = aux is not None and (aux["layer"], aux["head"]) == (h["layer"], h["head"])
        name = h["name"] + (" (trained by the auxiliary loss)" if trained else "")
        lines.append(f"| {h['layer']}.{h['head']} | {name} | {h['prev']:.2f} | {h['self']:.2f} | {h['start']:.2f} | "
                     f"{h['duplicate']:.2f} | {h['induction']:.2f} | {h['mean_distance']:.1f} |")
    lines.append("")
    lines.append("Names come from the first rule that holds: " + "; ".join(
        f"**{r['name']}**: {r['when']}" for r in profile["rules"]) + ".")
    return "\n".join(lines)


def render(card, profile):
    if BEGIN not in card or END not in card:
        raise SystemExit(f"heads_table: expected the markers {BEGIN} and {END} in MODEL.md")
    head, rest = card.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{BEGIN}\n{table(profile)}\n{END}{tail}"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=str(ROOT / "model"))
    ap.add_argument("--check", action="store_true")
    args = ap.parse_args()
    model = Path(args.model)
    profile = json.loads((model / "heads.json").read_text())
    card_path = model / "MODEL.md"
    card = card_path.read_text()
    new = render(card, profile)
    if args.check:
        if new != card:
            sys.exit("heads_table: MODEL.md's head table differs from model/heads.json; run trainer/heads_table.py")
        return
    card_path.write_text(new)


if __name__ == "__main__":
    main()
