Mutant: a release resolves the household's alerts without its reason (note)
Needs: -
Tests: ctest ^test_engine
Tests: pytest tests/integration/test_lifecycle_edges.py -k release
File: bridge/engine_command.c

s/SB_AST_RESOLVED, "system", reason, now)/SB_AST_RESOLVED, "system", NULL, now)/
