"""The evidence engine: the pytest plugin that records every scenario, the run folder's records, the
exit-criteria assessment, the report and its exports, the signed pack, merging, and the secret scan."""
