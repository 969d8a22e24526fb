"""Carbon accounting, pure: units, factors, roll-ups, periods, statements and checks.

It imports no database driver, broker or web framework; it reads and writes through the
`typing.Protocol` ports that `store` implements, so an auditor's ``verify`` can run the
same code on an export bundle with no database. (Built out by the carbon-ledger issue.)
"""
