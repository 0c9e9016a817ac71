Mutant: ack publishes without its note
Needs: -
Tests: ctest ^test_engine
Tests: pytest tests/integration/test_escalation.py
File: bridge/engine_command.c

s/SB_AST_ACKED, c->by, c->note, now)/SB_AST_ACKED, c->by, NULL, now)/
