#!/usr/bin/env python3
"""Checks an mqproof .apkg with the official `anki` package (pip install anki==26.9.3).

Imports the package into a fresh collection, checks that the note count equals the number of
questions, then imports the same file again and checks that nothing new is added (stable guids).

Usage: check_anki_export.py FILE.apkg EXPECTED_NOTES
"""

import os
import sys
import tempfile

from anki.collection import Collection, ImportAnkiPackageOptions, ImportAnkiPackageRequest


def main() -> int:
    path, expected = os.path.abspath(sys.argv[1]), int(sys.argv[2])
    with tempfile.TemporaryDirectory() as folder:
        collection = Collection(os.path.join(folder, "collection.anki2"))
        try:
            options = ImportAnkiPackageOptions(with_scheduling=True, with_deck_configs=False, merge_notetypes=False)
            first = collection.import_anki_package(ImportAnkiPackageRequest(package_path=path, options=options))
            notes = collection.note_count()
            again = collection.import_anki_package(ImportAnkiPackageRequest(package_path=path, options=ImportAnkiPackageOptions()))
            after = collection.note_count()
        finally:
            collection.close()
    print(f"anki import: {len(first.log.new)} new notes, {notes} in the collection; re-import: {len(again.log.new)} new, {after} in the collection")
    problems = []
    if notes != expected:
        problems.append(f"expected {expected} notes, Anki has {notes}")
    if len(again.log.new) != 0 or after != notes:
        problems.append("re-importing the same package added notes: guids are not stable")
    for problem in problems:
        print(f"check_anki_export: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
