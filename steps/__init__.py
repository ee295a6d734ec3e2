"""Step definitions: parse, call a page object, assert. One test module per feature."""
