"""What the calendar services share, written once (STYLE.md lesson 11).

Each module holds one rule that every provider applies the same way, with one
table of test cases in ``tests/providers/kit/``; a provider keeps only its
wire format (paging, batching, field names).

- :mod:`.contents`: an appointment's contents ↔ a subject and a body, HTML
  bodies as plain text, an edited occurrence's parts;
- :mod:`.rrule`: recurrence rules read one way (UNTIL's one meaning, the one
  expansion, the bound on what the Sales Calendar holds);
- :mod:`.pattern`: the pattern model Exchange and Office 365 share ↔ RRULE;
- :mod:`.errors`: an HTTP error answer → our error, one sentence per situation.
"""
