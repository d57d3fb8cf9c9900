"""What the methodological note quotes, from the files the other stages wrote (the note stage).

Nothing in the note is typed by hand: every value it quotes is read from ``reports/`` (and the cost, search and
monitoring settings of params.yaml), French formatted, and written to ``note_methodologique/_generated/valeurs.yml``;
every table to ``note_methodologique/_generated/*.md``. `credit_scoring.note.render` then renders the note.

Every sentence whose conclusion depends on the numbers picks its words here, from the numbers (an interval that
holds zero is "dans le bruit", one that does not is "nettement" in favour of one side), so the note stays true
when a run changes them.
"""
