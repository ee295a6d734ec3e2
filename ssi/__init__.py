"""What an SSI is, for both sides: the target profile (its model and its one loader, the profiles),
the reference SSI's organisations and personas, and the error a user's input raises.

The harness (uept) and the reference SSI (refssi) both import this package; it imports neither.
"""
