"""`make bench`: Slipstream's performance figures, measured in one run on this machine.

Prints a table and writes `bench-results.json` (flat `"name": number`). Each area is a module;
`__main__` runs them all.
"""
