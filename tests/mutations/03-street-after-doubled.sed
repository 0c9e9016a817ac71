Mutant: escalation to street after twice escalation.street_after
Needs: -
Tests: ctest ^test_engine
Tests: pytest tests/integration/test_escalation.py tests/integration/test_lifecycle_edges.py -k escalat
Tests: pytest tests/integration/test_lifecycle_edges.py::test_timers_fire_in_the_order_of_their_settings
File: bridge/engine_alert.c

s/\(e->set\.street_after_ms\)/(2 * \1)/
