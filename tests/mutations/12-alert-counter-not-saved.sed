Mutant: the alert counter is not saved: ids repeat after a restart
Needs: -
Tests: ctest ^test_engine
Tests: pytest tests/integration/test_restart.py tests/integration/test_chaos.py
File: bridge/engine_alert.c

s|e->counter_dirty = 1; /\* saved once per call, however many alerts it raised \*/|e->counter_dirty = 0;|
