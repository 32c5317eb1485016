"""Corpus and tokenizer: from the packages fetched by setup.sh to documents, a train/val split and a BPE.

Every step is deterministic: the same packages give the same documents, the same split and the same
tokenizer. `python trainer/corpus.py` prints the sizes that MODEL.md quotes.
"""

import json
import re
import zlib
from pathlib import Path

TRAINER = Path(__file__).resolve().parent
DATA = TRAINER / "data"
RAW = DATA / "raw"
EOT = "<|endoftext|>"
VOCAB_SIZE = 4096
WORD_LIST_REPEATS = 1000

# Plain words a visitor is likely to type. They are added (once each, as a word list) to the text the
# BPE is trained on, so that merges for them exist even when the corpus rarely uses them; the model is
# still trained only on the corpus.
SIMPLE_WORDS = """
a an the and or but if then so because when while where what who which how why this that these those
i you he she it we they me him her us them my your his its our their mine yours
is are was were be been being am do does did have has had will would can could shall should may might must
cat dog fox wolf bear bird fish horse cow pig sheep goat mouse rat rabbit lion tiger deer owl duck chicken
snake frog bee ant whale shark dolphin monkey elephant creature animal beast dragon monster
red blue green yellow orange purple pink brown black white grey gray gold silver dark bright pale
big small large little tiny huge tall short long old young new quick slow fast lazy happy sad angry calm
brave kind cruel wise clever quiet loud soft hard warm cold hot cool wet dry clean dirty fluffy furry
beautiful ugly pretty strange gentle wild fierce sweet bitter rich poor strong weak heavy light
verdant lush green ancient deep shallow empty full
forest tree trees wood woods river lake sea ocean mountain hill valley field meadow garden flower grass
sky sun moon star stars cloud rain snow wind storm fire water stone rock sand earth world land island
house home door window room table chair bed book paper pen letter word story song music picture
man woman boy girl child children baby mother father sister brother friend king queen prince princess
city town village street road bridge castle tower church school market farm ship boat car train
morning evening night day week year today tomorrow yesterday monday tuesday wednesday thursday friday
saturday sunday january february march april may june july august september october november december
run ran walk walked jump jumped roam roamed fly flew swim swam sing sang dance danced sleep slept eat ate
see saw look looked hear heard say said tell told think thought know knew find found give gave take took
make made come came go went get got sit sat stand stood hold held keep kept leave left bring brought
love loved like liked want wanted need needed help helped play played read write wrote open closed
one two three four five six seven eight nine ten hundred thousand first second third last next
over under above below across through into onto from with without about around between behind beside
Paris London France England America American English President Congress people government country
""".split()

# Tokenizer v2: words that start sentences and names, capitalised. Given (with and without a leading
# space, like SIMPLE_WORDS) so that "Once" at the start of a text and " Once" after a space are each one
# token, and a name repeated later in a text is cut the same way both times ("Mr", " Mr", " John").
CAPITALISED_WORDS = """
The A An In On At It He She They We I You This That These Those There Here When What Who Which How Why
But And Or So If As Once Then After Before Now Today Yesterday Tomorrow Some Many Every Each No Not Yes
One Two Three My Your His Her Its Our Their Me Him Them Is Are Was Were Do Does Did Have Has Had Will
Can Could Would Should May Might Must Let Please Thank Hello Dear Good Great Little Big Old New
Mr Mrs Ms Dr Sir Miss Lady Lord King Queen Prince Princess Captain Uncle Aunt Professor
John Mary James Tom Anna Alice Bob Sarah David Emma Peter Paul George Henry Jane Elizabeth Jack Harry
Kate Lucy Sam Ben Max Leo Mia Ella Noah Liam Olivia Sophia Oliver Charlie Grace Rose Lily Daniel Michael
Robert William Richard Thomas Charles Joseph Susan Linda Helen Ruth Anne Ahab Ishmael Queequeg Starbuck
Washington Lincoln Jefferson Adams Smith Jones Brown Johnson Miller Davis Wilson Taylor Clark Lewis
Monday Tuesday Wednesday Thursday Friday Saturday Sunday January February March April June July August
September October November December God Earth America Europe Africa Asia China Russia Germany Spain
Italy Japan India Canada Mexico Texas York California Boston Chicago States United Senate House
""".split()


def _doc_id(name: str) -> int:
    return zlib.crc32(name.encode("utf-8"))


def is_val(name: str) -> bool:
    """About 1 document in 32 is held out, chosen by a hash of its name (stable across runs)."""
    return _doc_id(name) % 32 == 0


def _clean(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
    text = re.sub(r"[ \u00a0]+", " ", text)
    text = re.sub(r" *\n *", "\n", text)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip()


def sotu_docs():
    d = RAW / "sotu" / "package" / "data"
    for f in sorted(d.glob("*.json")):
        rec = json.loads(f.read_text(encoding="utf-8"))
        yield f"sotu/{f.stem}", _clean(rec["text"])


def moby_docs():
    d = RAW / "moby-dick" / "package" / "data"
    for f in sorted(d.glob("chapter_*.txt")) + [d / "epilogue.txt"]:
        yield f"moby/{f.stem}", _clean(f.read_text(encoding="utf-8"))


_NO_SPACE_BEFORE = {",", ".", ";", ":", "?", "!", ")", "]", "''", "'", "n't", "'s", "'re", "'ll", "'d",
                    "'m", "'ve", "%"}
_NO_SPACE_AFTER = {"``", "(", "[", "$"}


def _brown_detok(line: str) -> str:
    words = []
    for tok in line.split():
        word = tok.rsplit("/", 1)[0] if "/" in tok else tok
        words.append(word)
    out = ""
    prev = None
    for w in words:
        text = {"``": '"', "''": '"', "--": "--"}.get(w, w)
        if prev is None or w in _NO_SPACE_BEFORE or prev in _NO_SPACE_AFTER:
            out += text
        else:
            out += " " + text
        prev = w
    return out


def brown_docs():
    d = RAW / "brown" / "package"
    for f in sorted(p for p in d.iterdir() if re.fullmatch(r"c[a-r]\d\d", p.name)):
        paras, cur = [], []
        for line in f.read_text(encoding="latin-1").split("\n"):
            if not line.strip():
                if cur:
                    paras.append(" ".join(cur))
                    cur = []
                continue
            cur.append(_brown_detok(line.strip()))
        if cur:
            paras.append(" ".join(cur))
        yield f"brown/{f.name}", _clean("\n".join(paras))


def _sentence(s: str) -> str:
    s = s.strip().strip('"').strip()
    if not s:
        return ""
    s = s[0].upper() + s[1:]
    return s if s[-1] in ".!?" else s + "."


def wordnet_docs():
    d = RAW / "wordnet" / "usr" / "share" / "wordnet"
    for pos in ["noun", "verb", "adj", "adv"]:
        block, n = [], 0
        for line in (d / f"data.{pos}").read_text(encoding="utf-8").split("\n"):
            if not line or line.startswith("  ") or "|" not in line:
                continue
            gloss = line.split("|", 1)[1].strip()
            parts = [p.strip() for p in gloss.split(";") if p.strip()]
            block.append(" ".join(filter(None, (_sentence(p) for p in parts))))
            if len(block) == 200:
                yield f"wordnet/{pos}/{n}", "\n".join(block)
                block, n = [], n + 1
        if block:
            yield f"wordnet/{pos}/{n}", "\n".join(block)


SOURCES = {"sotu": sotu_docs, "moby-dick": moby_docs, "brown": brown_docs, "wordnet": wordnet_docs}


def documents():
    """All documents as (name, text), in a fixed order."""
    for src in SOURCES.values():
        yield from src()


def build_tokenizer(train_texts, path: Path, vocab_size: int = VOCAB_SIZE):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Digits(individual_digits=True),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True),
    ])
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        min_frequency=2,
        special_tokens=[EOT],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    # The word list is given twice, with and without a leading space, as the pre-tokenizer would see
    # the word inside and at the start of a sentence.
    extra = []
    for w in SIMPLE_WORDS + CAPITALISED_WORDS:
        extra.append(" " + w)
        extra.append(w)
    tok.train_from_iterator(list(train_texts) + extra * WORD_LIST_REPEATS, trainer=trainer)
    path.parent.mkdir(parents=True, exist_ok=True)
    tok.save(str(path))
    return tok


def main():
    stats = {}
    for name, src in SOURCES.items():
        docs = list(src())
        words = sum(len(t.split()) for _, t in docs)
        chars = sum(len(t) for _, t in docs)
        val = sum(1 for n, _ in docs if is_val(n))
        stats[name] = {"documents": len(docs), "val_documents": val, "words": words, "chars": chars}
    print(json.dumps(stats, indent=1))


if __name__ == "__main__":
    main()
