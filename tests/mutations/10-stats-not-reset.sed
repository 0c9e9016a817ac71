Mutant: statistics counters are not reset between passes (they add up)
Needs: -
Tests: ctest ^test_engine
Tests: pytest tests/integration/test_lifecycle_edges.py -k stats
File: bridge/engine_timer.c

s/^\(\t*\)u->households = u->fitted = u->online = u->silent = u->doors_open = u->open_alerts = 0;/\1(void)u;/
