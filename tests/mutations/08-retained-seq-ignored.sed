Mutant: a retained report is never taken, even with a seq newer than the stored one
Needs: -
Tests: ctest ^test_engine
Tests: pytest tests/integration/test_lifecycle_edges.py -k retained
File: bridge/engine_input.c

# the retained check (with or without the engine branch's fitting rule) always holds
s/^\tif (retained \&\& (\{0,1\}!r->has_seq/\tif (retained || 0 \&\& (!r->has_seq/
s/^\(\tif (retained || 0 \&\& (!r->has_seq)\)$/\1)/
