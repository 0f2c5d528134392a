"""``python -m xperience_suite.report <sweep folder>``: (re)build the report of a sweep."""
