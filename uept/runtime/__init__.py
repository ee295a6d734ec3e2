"""What page objects, steps and fixtures use while scenarios run: the config and the target, secrets and
their redaction, authenticator and emailed codes, traces that keep secrets out, the browser, the Table API
and the reference SSI's operator controls, and the reference SSI started as a process of its own."""
