"""Generate labelled movie reviews from small word lists: data for an offline smoke run of the
pipeline (no download), and the fixtures of the tests.

    python tools/generate_reviews.py data/own/generated.csv              # 2,000 reviews, CSV
    python tools/generate_reviews.py data/own/generated.tar.gz --reviews 480   # aclImdb layout

Each review mixes filler words with two to four words of its class, so any model separates them:
the point is to exercise every stage, not to measure accuracy.
"""

import argparse
import csv
import io
import random
import tarfile
from pathlib import Path

POSITIVE = [
    "great",
    "wonderful",
    "loved",
    "excellent",
    "superb",
    "brilliant",
    "enjoyable",
    "moving",
]
NEGATIVE = ["awful", "terrible", "hated", "boring", "dreadful", "waste", "dull", "worst"]
FILLER = [
    "the",
    "movie",
    "film",
    "plot",
    "actor",
    "scene",
    "was",
    "and",
    "it",
    "a",
    "story",
    "this",
    "director",
    "of",
    "with",
    "really",
    "ending",
    "characters",
    "music",
    "i",
]


def review(rng: random.Random, positive: bool) -> str:
    cue = POSITIVE if positive else NEGATIVE
    words = [rng.choice(FILLER) for _ in range(rng.randint(8, 40))]
    for _ in range(rng.randint(2, 4)):
        words.insert(rng.randrange(len(words) + 1), rng.choice(cue))
    text = " ".join(words)
    return (
        f"{text[0].upper()}{text[1:]}!<br /><br />{rng.choice(FILLER).title()}, {rng.choice(cue)}."
    )


def write_tarball(path: Path, per_folder: int = 60, seed: int = 0) -> Path:
    """aclImdb/{train,test}/{pos,neg}/ID_RATING.txt, as in the official tarball."""
    rng = random.Random(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(path, "w:gz") as archive:
        for split in ("train", "test"):
            for polarity in ("pos", "neg"):
                for number in range(per_folder):
                    rating = rng.randint(7, 10) if polarity == "pos" else rng.randint(1, 4)
                    data = review(rng, polarity == "pos").encode()
                    info = tarfile.TarInfo(f"aclImdb/{split}/{polarity}/{number}_{rating}.txt")
                    info.size = len(data)
                    archive.addfile(info, io.BytesIO(data))
    return path


def write_csv(path: Path, reviews: int, seed: int = 0) -> Path:
    """A ``text,label`` table, classes alternating; the pipeline draws its own test split."""
    rng = random.Random(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "label"])
        for number in range(reviews):
            writer.writerow([review(rng, number % 2 == 0), "pos" if number % 2 == 0 else "neg"])
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="a .csv file, or a .tar.gz in the aclImdb layout")
    parser.add_argument("--reviews", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if args.out.name.endswith((".tar.gz", ".tgz")):
        write_tarball(args.out, max(1, args.reviews // 4), args.seed)
    else:
        write_csv(args.out, args.reviews, args.seed)
    print(f"wrote {args.reviews} reviews to {args.out}")


if __name__ == "__main__":
    main()
