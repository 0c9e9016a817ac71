Mutant: a vendor source may speak for any seal (wrong_source never checked)
Needs: engine
Tests: ctest ^test_engine
Tests: pytest tests/integration/test_field_ops.py::test_vendor_cannot_speak_for_native_seal tests/integration/test_field_ops.py::test_install_names_the_source
File: bridge/engine_input.c

# the engine branch's check in engine_report_from (issue 10 item 7)
s/if (src != SB_SRC_NONE && d->source != SB_SRC_NONE && d->source != src)/if (0)/
