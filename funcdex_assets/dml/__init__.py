"""DML (Dialog Markup Language): the text form conversations are generated in.

See docs/dml.md for the format. `model` holds the typed turns, `parser` turns text into turns,
`renderer` turns turns into text, `validator` applies the conversation rules, `parallel` groups
the calls an assistant issues at once (parallel calls) with their responses.
"""
