Mutant: install resets the seal's seq, so an old retained report raises on the new household
Needs: engine
Tests: ctest ^test_engine
Tests: pytest tests/integration/test_reports.py tests/integration/test_restart.py
File: bridge/engine_command.c

# in fit(): the reset the engine branch removes (issue 10 item 5)
/^\td->tamper = -1;$/a\
\td->seq = -1;
