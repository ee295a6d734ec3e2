"""The OMS module (BFD13): rules, store, portal pages, the Table API tables, and the operator's controls."""
