Mutant: a vendor source may speak for any seal (wrong_source never checked)
Needs: engine
Tests: ctest ^test_engine
Tests: pytest tests/integration/test_vendors.py
File: bridge/engine_input.c

# the engine branch's check in engine_report_from (issue 10 item 7)
s/d->source != SB_SRC_NONE && d->source != src)/d->source != SB_SRC_NONE \&\& d->source != src \&\& 0)/
