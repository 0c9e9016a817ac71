Mutant: tamper alerts never escalate (treated like battery_low)
Needs: -
Tests: ctest ^test_engine
Tests: pytest tests/integration/test_lifecycle_edges.py -k tamper
File: bridge/engine_alert.c

s/return a->type != SB_ALERT_BATTERY_LOW \&\& /return a->type != SB_ALERT_BATTERY_LOW \&\& a->type != SB_ALERT_TAMPER \&\& /
