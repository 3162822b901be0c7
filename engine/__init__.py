"""The pure domain core of Ludex: definitions, state, commands, events and rules.

Nothing here does I/O, awaits, or knows about Ray: every function takes what it needs
(time, definitions, identity) as arguments so that replaying a journal gives the same state.
"""
