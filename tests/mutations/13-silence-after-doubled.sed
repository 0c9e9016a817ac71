Mutant: device_silent after twice silence_after
Needs: -
Tests: ctest ^test_engine
Tests: pytest tests/integration/test_conditions.py tests/integration/test_lifecycle_edges.py -k silent
Tests: pytest tests/integration/test_lifecycle_edges.py::test_timers_fire_in_the_order_of_their_settings
File: bridge/engine_timer.c

/^static int64_t silence_after(/,/^}/s/^\treturn \(.*\);$/\treturn 2 * (\1);/
