"""The reference SSI: a real web app imitating DCC's ServiceNow Service Portal.

It is uept's default target, so the UEPT scenarios run out of the box, and the
harness's own tests use it to prove that every check can fail.
"""
