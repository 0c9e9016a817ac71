Mutant: install resets the seal's seq, so an old retained report raises on the new household
Needs: engine
Tests: ctest ^test_engine
Tests: pytest tests/integration/test_field_ops.py::test_refitted_seal_old_retained_report_raises_nothing
File: bridge/engine_command.c

# in fit(): the reset the engine branch removed (issue 10 item 5); also forget
# the seq at fitting, which the engine branch records (field_fitted)
/^\td->tamper = -1;$/a\
\td->seq = -1;
