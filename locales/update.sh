#!/bin/sh
# Re-extract the messages from the code and merge them into every catalog. New messages come
# in empty (no fuzzy guesses: a near match once turned "Signalements à valider" into "My reports").
# Run from the repository root: sh locales/update.sh
set -e
PYBABEL="${PYBABEL:-.venv/bin/pybabel}"
"$PYBABEL" extract -F locales/babel.cfg -k N_ -k ngettext:1,2 --no-wrap --sort-by-file \
    --project Kibaru --copyright-holder "Kibaru contributors" -o locales/kibaru.pot .
# pybabel marks the template's header fuzzy; nothing in a template is a guess, so drop it.
sed -i '1,12{/^#, fuzzy$/d}' locales/kibaru.pot
"$PYBABEL" update --no-wrap --ignore-obsolete --no-fuzzy-matching -D kibaru -i locales/kibaru.pot -d locales
