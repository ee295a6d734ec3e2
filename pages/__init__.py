"""Page objects: locators and user intents for each SSI page, nothing else.

They prefer user-facing locators (roles and the visible labels from the target
profile), never sleep (Playwright waits on state), and type secrets only inside
`private(page)`, so no trace records them.
"""

from .ssi import SSI

__all__ = ["SSI"]
