#!/usr/bin/env python3
"""Runs the search evaluation set against a built mqproof binary and prints recall@1, recall@5
and MRR. Works with any mqproof that has `search --json`, so an old and a new binary can be
compared on the same set:

    python3 scripts/search_eval.py [-v] .build/release/mqproof [Tests/ContentTests/Fixtures/search-eval.yaml]

The test suite computes the same figures in-process (SearchEvaluationTests); this script is for
comparing binaries side by side.
"""
import json
import os
import subprocess
import sys
import tempfile

import yaml


def main():
    arguments = [argument for argument in sys.argv[1:] if argument != "-v"]
    binary = arguments[0]
    path = arguments[1] if len(arguments) > 1 else "Tests/ContentTests/Fixtures/search-eval.yaml"
    queries = yaml.safe_load(open(path, encoding="utf-8"))["queries"]
    env = dict(os.environ, MQPROOF_DB=os.path.join(tempfile.mkdtemp(), "eval.sqlite"), NO_COLOR="1")
    hits1 = hits5 = empty = 0
    reciprocal = 0.0
    misses = []
    for item in queries:
        run = subprocess.run([binary, "search", "--json", "--limit", "10", "--", item["query"]],
                             capture_output=True, text=True, env=env)
        ids = []
        if run.returncode == 0:
            document = json.loads(run.stdout)
            results = document["results"] if isinstance(document, dict) else document
            ids = [result["id"] for result in results]
        if not ids:
            empty += 1
        answers = set(item["answers"])
        rank = next((index + 1 for index, found in enumerate(ids) if found in answers), None)
        hits1 += rank == 1
        hits5 += rank is not None and rank <= 5
        reciprocal += 1 / rank if rank else 0
        if not rank or rank > 5:
            misses.append(f"  {item['query']!r}: wanted {item['answers'][0]}, got {ids[:3]}")
    count = len(queries)
    print(f"{count} queries: recall@1 {hits1 / count:.3f}, recall@5 {hits5 / count:.3f}, "
          f"MRR {reciprocal / count:.3f}, empty results {empty}")
    if misses and "-v" in sys.argv:
        print("not in the top 5:")
        print("\n".join(misses))


if __name__ == "__main__":
    main()
